package org.pdpm.core.clover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.pdpm.core.api.KeyBytes;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.layout.EntryLayout;
import org.pdpm.core.layout.Pointer;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RoundTrip;
import org.pdpm.rdma.api.TrafficCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Clover client: the data plane at the compute node. A PUT writes an immutable new version out
 * of place into space this client owns, on all R replicas with a flush (one round trip), then
 * commits it with one CAS on the previous version's {@code next} word on the primary (a second);
 * a GET reads the cached newest version and is done when its {@code next} is still empty (one
 * round trip). The metadata server is asked only on a cache miss, for a new key, or for space.
 *
 * <p>With R > 1 the committed link is then copied to the backups (a third round trip) before the
 * PUT returns, so every acknowledged version is linked on every replica.
 *
 * <p>A client writes in one lineage, at an epoch it advances itself (a checkpoint pins the epoch
 * it ends, then advances). Its reads see the newest version its lineage admits: the chain's tail
 * in the common case; when the tail belongs to another lineage or to a later epoch, the chain is
 * walked from its head. {@link #asOf} reads a pinned point the same way.
 */
public final class CloverStore implements LineageStore {

    private static final Logger LOG = LoggerFactory.getLogger(CloverStore.class);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Hops a read follows from a stale cursor before asking the server for a fresher start. */
    private static final int MAX_HOPS_BEFORE_LOOKUP = 8;
    /** Links a cursor gathers on walks before they are copied to the backups on their own (see {@link #follow}). */
    private static final int MAX_WALKED = 16;
    /** Reads of an entry that fails its checksum before the store gives up on it. */
    private static final int MAX_TORN_READS = 16;
    private static final int SCAN_PAGE = 256;
    /** Version ids are the client id above a per-client counter of this many bits. */
    private static final int VERSION_COUNTER_BITS = 40;
    /** Walks from a chain's head that may start again because a collection unlinked a version meanwhile. */
    private static final int MAX_WALK_RESTARTS = 64;

    /**
     * Where this client last saw a key's chain end: a committed version, its id and its position
     * in the chain. Id and position are 0 when the pointer came from the metadata server, which
     * does not track them; the key is then the only check until the entry has been read.
     * {@code walked} lists the links this client followed on the primary to get here beyond what the
     * metadata server named: the backups may lack them (their writer may have died before copying
     * them), so the next write from here copies them along with its own link.
     */
    private record Cursor(long pointer, long versionId, long seq, List<Link> walked) {
        static Cursor unverified(long pointer) {
            return new Cursor(pointer, 0, 0, List.of());
        }

        static Cursor of(long pointer, EntryLayout.Entry e) {
            return of(pointer, e, List.of());
        }

        static Cursor of(long pointer, EntryLayout.Entry e, List<Link> walked) {
            return new Cursor(pointer, e.versionId(), e.seq(), List.copyOf(walked));
        }

        boolean verified() {
            return versionId != 0;
        }
    }

    /** A committed link seen on a primary: version {@code from} (id {@code versionId}) is followed by {@code to}. */
    private record Link(long from, long versionId, long to) {}

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final MetadataService metadata;
    private final long clientId;
    private final KvLimits limits;
    private final int lineage;
    private final Visibility visibility;
    private volatile long epoch;
    private final ConcurrentHashMap<KeyBytes, Cursor> cursors = new ConcurrentHashMap<>();
    /** Nodes whose connection broke and that the server has not (yet) taken out; reads avoid them. */
    private final java.util.Set<Integer> unreachable = ConcurrentHashMap.newKeySet();
    /** The server's view of which nodes are out of service; never read or written. */
    private volatile MetadataService.Membership membership;
    private final AtomicLong versionCounter = new AtomicLong();
    private final ExecutorService background;
    /** Where an asynchronous GET that left the fast path finishes; never the fabric's completion thread. */
    private final ExecutorService slowPath;
    private final Object allocationLock = new Object();
    private MetadataService.BlockGrant block;
    private long blockNext;

    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    /** See {@link Builder#retireEvery}. */
    private final int retireEvery;
    /** Keys asked of the metadata server because the cache had no (usable) cursor for them. */
    private final LongAdder metadataLookups = new LongAdder();
    private final TrafficCounter getTraffic = new TrafficCounter();
    private final TrafficCounter putTraffic = new TrafficCounter();
    private final TrafficCounter deleteTraffic = new TrafficCounter();

    private CloverStore(PoolNodes nodes, MetadataService metadata, KvLimits limits, int lineage, long epoch,
                        MetadataService.Membership membership, int retireEvery) {
        this.nodes = nodes;
        this.retireEvery = retireEvery;
        this.membership = membership;
        this.metadata = metadata;
        this.layout = metadata.pool();
        if (layout.nodeCount() != nodes.size()) {
            throw new IllegalArgumentException("the metadata server's pool has " + layout.nodeCount()
                    + " memory nodes but this client was given " + nodes.size());
        }
        int largest = EntryLayout.entryBytes(limits.maxKeyBytes(), limits.maxValueBytes());
        if (largest > layout.blockBytes() || largest > Pointer.MAX_LENGTH_BYTES) {
            throw new IllegalArgumentException("limits " + limits + " allow entries of " + largest
                    + " bytes, more than a block of " + layout.blockBytes());
        }
        this.limits = limits;
        MetadataService.LineageInfo info = metadata.lineage(lineage);
        if (!info.live()) {
            throw new IllegalStateException("lineage " + lineage + " was dropped: nothing can be written in it any more;"
                    + " fork a new lineage from one of its pinned epochs");
        }
        this.lineage = lineage;
        this.visibility = new Visibility(info.sees());
        this.epoch = epoch;
        this.clientId = metadata.registerClient();
        if (clientId >= 1L << (63 - VERSION_COUNTER_BITS - 1)) {
            throw new IllegalStateException("client id " + clientId + " no longer fits a version id: the pool has"
                    + " registered too many clients");
        }
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pdpm-clover-hints-" + clientId);
            t.setDaemon(true);
            return t;
        });
        this.slowPath = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "pdpm-clover-slow-get-" + clientId);
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Opens a Clover client; it closes the connections it opened when it fails. */
    public static final class Builder {
        private Fabric fabric;
        private List<NodeAddress> memoryNodes;
        private MetadataService metadata;
        private KvLimits limits;
        private int lineage = MetadataService.ROOT_LINEAGE;
        private long epoch;
        private int retireEvery = 1;

        public Builder fabric(Fabric fabric) {
            this.fabric = fabric;
            return this;
        }

        /** The pool's memory nodes, in pool order. */
        public Builder memoryNodes(List<NodeAddress> memoryNodes) {
            this.memoryNodes = List.copyOf(memoryNodes);
            return this;
        }

        public Builder metadata(MetadataService metadata) {
            this.metadata = metadata;
            return this;
        }

        /** Key and value bounds; by default keys up to 1 KiB and values up to a quarter block. */
        public Builder limits(KvLimits limits) {
            this.limits = limits;
            return this;
        }

        /** The lineage to read and write in; by default the pool's root lineage. It must be live. */
        public Builder lineage(int lineage) {
            this.lineage = lineage;
            return this;
        }

        /** The epoch new versions are written in, until {@link CloverStore#advanceEpoch}; 0 by default. */
        public Builder epoch(long epoch) {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch=" + epoch + " must not be negative");
            }
            this.epoch = epoch;
            return this;
        }

        /**
         * Tells the metadata server about superseded versions only at every {@code n}-th version of
         * a key (and at every delete), so that it collects a key once per {@code n} overwrites
         * rather than at each: fewer metadata calls and less collection work, for up to {@code n - 1}
         * superseded versions per key waiting in the pool. 1 (the default) collects at each overwrite.
         */
        public Builder retireEvery(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("retireEvery=" + n + " must be at least 1");
            }
            this.retireEvery = n;
            return this;
        }

        public CloverStore open() {
            Objects.requireNonNull(fabric, "fabric");
            Objects.requireNonNull(memoryNodes, "memoryNodes");
            Objects.requireNonNull(metadata, "metadata");
            KvLimits l = limits != null ? limits : new KvLimits(1024, metadata.pool().blockBytes() / 4);
            MetadataService.Membership members = metadata.membership();
            PoolNodes nodes = PoolNodes.connect(fabric, memoryNodes, members::isOut, true);
            try {
                for (int n = 0; n < nodes.size(); n++) {
                    if (!nodes.isConnected(n) && !members.isOut(n)) {
                        members = metadata.reportUnreachable(n);
                        if (!members.isOut(n)) {
                            nodes.reconnect(n);
                        }
                    }
                }
                return new CloverStore(nodes, metadata, l, lineage, epoch, members, retireEvery);
            } catch (RuntimeException e) {
                nodes.close();
                throw e;
            }
        }
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    public long clientId() {
        return clientId;
    }

    @Override
    public int lineage() {
        return lineage;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    /**
     * Writes from now on go to {@code next}. Pin the epoch being ended first (see {@link #pin}) when
     * it must stay readable: versions of an unpinned epoch that a later one supersedes are garbage.
     */
    @Override
    public void advanceEpoch(long next) {
        synchronized (allocationLock) {
            if (next < epoch) {
                throw new IllegalArgumentException("epoch " + next + " is before the current epoch " + epoch
                        + " of lineage " + lineage + "; epochs only advance");
            }
            epoch = next;
        }
    }

    /** Pins {@code (lineage(), epoch)} for {@code owner}: what it sees stays readable until unpinned. */
    public void pin(long pinnedEpoch, String owner) {
        callMetadata(() -> {
            metadata.pin(lineage, pinnedEpoch, owner);
            return null;
        }, "pin an epoch");
    }

    /** Releases {@code owner}'s pin of {@code (lineage(), epoch)}; its versions may then be collected. */
    public void unpin(long pinnedEpoch, String owner) {
        callMetadata(() -> {
            metadata.unpin(lineage, pinnedEpoch, owner);
            return null;
        }, "unpin an epoch");
    }

    /**
     * The store as {@code (lineage, epoch)} sees it. The point must be pinned, since what an unpinned
     * point saw may have been collected; it stays readable while the pin is held.
     */
    @Override
    public KvSnapshot asOf(int lineageOf, long epochOf) {
        boolean pinned = callMetadata(metadata::pins, "list pins").stream()
                .anyMatch(p -> p.lineage() == lineageOf && p.epoch() == epochOf);
        if (!pinned) {
            throw new IllegalStateException("(lineage " + lineageOf + ", epoch " + epochOf + ") is not pinned: pin it"
                    + " before its versions may be superseded, then read it");
        }
        List<MetadataService.EpochRange> ranges = new ArrayList<>(
                callMetadata(() -> metadata.lineage(lineageOf), "look up a lineage").sees());
        ranges.set(0, new MetadataService.EpochRange(lineageOf, epochOf));
        Visibility view = new Visibility(ranges);
        return new KvSnapshot() {
            @Override
            public byte[] get(byte[] key) {
                limits.checkKey(key);
                TrafficCounter op = new TrafficCounter();
                try {
                    return read(new KeyBytes(key.clone()), view, op);
                } finally {
                    gets.increment();
                    addTo(getTraffic, op);
                }
            }

            @Override
            public KvCursor scan(byte[] prefix) {
                limits.checkPrefix(prefix);
                return new ScanCursor(prefix.clone(), view);
            }

            @Override
            public String toString() {
                return "snapshot of lineage " + lineageOf + " at epoch " + epochOf;
            }
        };
    }

    // ---------------------------------------------------------------- GET

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        TrafficCounter op = new TrafficCounter();
        try {
            return read(new KeyBytes(key.clone()), visibility, op);
        } finally {
            gets.increment();
            addTo(getTraffic, op);
        }
    }

    /**
     * With a warm cursor, one READ posted without waiting; the answer is decoded on the fabric's
     * completion thread. Anything else (a cache miss, a stale cursor, a tail another lineage wrote)
     * takes the blocking path on a helper thread: the caller is never blocked, so it may chain
     * reads from completions.
     */
    @Override
    public CompletableFuture<byte[]> getAsync(byte[] key) {
        limits.checkKey(key);
        KeyBytes k = new KeyBytes(key.clone());
        Cursor cursor = cursors.get(k);
        if (cursor == null || !cursor.verified()) {
            // Never block the caller: it may be a fabric thread chaining reads from completions.
            return CompletableFuture.supplyAsync(() -> get(key), slowPath);
        }
        int node = readableReplica(cursor.pointer());
        Batch b = new Batch(1);
        b.read(nodes.region(node), Pointer.offset(cursor.pointer()), Pointer.lengthBytes(cursor.pointer()));
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        nodes.connection(node).post(b).whenComplete((r, failure) -> {
            // Counted straight into the total: this path's traffic is this one READ.
            getTraffic.addBatch(b);
            getTraffic.addRoundTrips(1);
            EntryLayout.Entry e = failure == null ? EntryLayout.decode(r.bytes(0)) : null;
            if (e != null && e.isTail() && e.versionId() == cursor.versionId() && Arrays.equals(e.key(), k.bytes())
                    && visibility.sees(e.lineage(), e.epoch())) {
                gets.increment();
                answer.complete(e.tombstone() ? null : e.value());
                return;
            }
            try {
                slowPath.execute(() -> {
                    try {
                        answer.complete(get(key));
                    } catch (Throwable t) {
                        answer.completeExceptionally(t);
                    }
                });
            } catch (RejectedExecutionException closed) {
                answer.completeExceptionally(new IllegalStateException("the Clover client is closed", closed));
            }
        });
        return answer;
    }

    private byte[] read(KeyBytes key, Visibility view, TrafficCounter op) {
        EntryLayout.Entry e = newestVisible(key, cursors.get(key), view, op);
        return e == null || e.tombstone() ? null : e.value();
    }

    /**
     * The newest version of {@code key} that {@code view} admits: the tail when it does (one READ
     * from a warm cursor), else the last admitted one on a walk from the chain's head.
     */
    private EntryLayout.Entry newestVisible(KeyBytes key, Cursor cursor, Visibility view, TrafficCounter op) {
        if (cursor == null) {
            cursor = lookup(key, op);
            if (cursor == null) {
                return null;
            }
        }
        EntryLayout.Entry tail = readTail(key, cursor, op);
        if (tail == null || view.sees(tail.lineage(), tail.epoch())) {
            return tail;
        }
        return walkFromHead(key, view, op);
    }

    private EntryLayout.Entry walkFromHead(KeyBytes key, Visibility view, TrafficCounter op) {
        for (int restart = 0; restart < MAX_WALK_RESTARTS; restart++) {
            op.addRoundTrips(1);
            metadataLookups.increment();
            MetadataService.KeyLocation loc = callMetadata(() -> metadata.lookup(key.bytes()), "look up a key");
            if (loc == null) {
                return null;
            }
            EntryLayout.Entry newest = null;
            long at = loc.head();
            while (true) {
                EntryLayout.Entry e = readEntry(at, op);
                if (e == null || e.isUnlinked() || !Arrays.equals(e.key(), key.bytes())) {
                    break;   // collected under this walk: start again from the (new) head
                }
                if (view.sees(e.lineage(), e.epoch())) {
                    newest = e;
                }
                if (e.isTail()) {
                    return newest;
                }
                at = e.next();
            }
        }
        throw new StoreUnavailableException("the chain of key '" + key + "' kept changing under " + MAX_WALK_RESTARTS
                + " walks from its head");
    }

    private Cursor lookup(KeyBytes key, TrafficCounter op) {
        op.addRoundTrips(1);
        metadataLookups.increment();
        MetadataService.KeyLocation loc = callMetadata(() -> metadata.lookup(key.bytes()), "look up a key");
        return loc == null ? null : Cursor.unverified(loc.tail());
    }

    /**
     * Follows the chain from {@code from} to its tail; caches and returns the tail entry, or null
     * when the key has vanished from the index meanwhile. A cursor that no longer names the version
     * it was taken from (its space was reclaimed) sends the read back to the metadata server once.
     */
    private EntryLayout.Entry readTail(KeyBytes key, Cursor from, TrafficCounter op) {
        Cursor at = from;
        boolean fromServer = !from.verified();
        List<Link> walked = from.walked();
        int hops = 0;
        int restarts = 0;
        while (true) {
            EntryLayout.Entry e = readEntry(at.pointer(), op);
            boolean valid = e != null && Arrays.equals(e.key(), key.bytes())
                    && (!at.verified() || e.versionId() == at.versionId());
            if (valid && e.isUnlinked()) {
                // Collected since the cursor was taken: the server knows where the chain goes on.
                cursors.remove(key, from);
                if (++restarts > MAX_WALK_RESTARTS) {
                    throw new StoreUnavailableException("the chain of key '" + key + "' kept changing under reads");
                }
                at = lookup(key, op);
                if (at == null) {
                    return null;
                }
                fromServer = true;
                walked = List.of();   // the server names a version linked on every replica
                continue;
            }
            if (!valid) {
                cursors.remove(key, from);
                if (fromServer) {
                    throw new IllegalStateException("version " + Pointer.toString(at.pointer())
                            + " named by the metadata server does not hold key '" + key + "': the chain is corrupt");
                }
                Cursor fresh = lookup(key, op);
                if (fresh == null) {
                    return null;
                }
                at = fresh;
                fromServer = true;
                walked = List.of();
                continue;
            }
            if (e.isTail()) {
                if (at != from || !from.verified()) {
                    cursors.put(key, Cursor.of(at.pointer(), e, walked));
                }
                return e;
            }
            walked = follow(at.pointer(), e, walked, op);
            at = Cursor.unverified(e.next());
            if (++hops == MAX_HOPS_BEFORE_LOOKUP) {
                Cursor fresher = lookup(key, op);
                if (fresher != null) {
                    at = fresher;
                    walked = List.of();
                }
            }
        }
    }

    /**
     * One READ of a whole version from its group's primary, re-read while it fails its checksum;
     * null when it keeps failing — space reclaimed and being rewritten, or corrupt.
     */
    private EntryLayout.Entry readEntry(long pointer, TrafficCounter op) {
        for (int attempt = 0; attempt < MAX_TORN_READS; attempt++) {
            int node = readableReplica(pointer);
            Batch b = new Batch(1);
            b.read(nodes.region(node), Pointer.offset(pointer), Pointer.lengthBytes(pointer));
            RoundTrip rt = RoundTrip.on(op);
            rt.post(nodes.connection(node), b);
            EntryLayout.Entry e;
            try {
                e = EntryLayout.decode(rt.await().get(0).bytes(0));
            } catch (FabricException failed) {
                lost(node, failed);
                continue;   // the next attempt reads another replica, or fails when none is left
            }
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /**
     * The replica to read {@code pointer} from: the group's first node in service that this client
     * reaches. Every node in service holds every acknowledged version and link (a PUT returns only
     * once they are on all of them), so reads survive the loss of R − 1 nodes of a group.
     */
    private int readableReplica(long pointer) {
        int group = Pointer.group(pointer);
        boolean allReachable = unreachable.isEmpty();
        for (int n : inService(group)) {
            if (allReachable || !unreachable.contains(n)) {
                return n;
            }
        }
        throw new StoreUnavailableException("no replica of group " + group + " (" + layout.replication()
                + " memory nodes from " + nodes.address(group * layout.replication()) + ") can be reached");
    }

    /** The group's nodes in service as the server last said, the acting primary first. */
    private List<Integer> inService(int group) {
        MetadataService.Membership m = membership;
        InService cached = inService;
        if (cached == null || cached.membership() != m) {
            cached = new InService(m, new ArrayList<>());
            for (int g = 0; g < layout.groupCount(); g++) {
                List<Integer> in = new ArrayList<>(layout.replication());
                for (int n = g * layout.replication(); n < (g + 1) * layout.replication(); n++) {
                    if (!m.isOut(n)) {
                        in.add(n);
                    }
                }
                cached.byGroup().add(List.copyOf(in));
            }
            inService = cached;
        }
        return cached.byGroup().get(group);
    }

    /** Each group's nodes in service under one membership: computed once per membership, not per verb. */
    private record InService(MetadataService.Membership membership, List<List<Integer>> byGroup) {}

    private volatile InService inService;

    /**
     * A verb on {@code node} failed. When the node could not be reached, the server is told: it
     * takes the node out of service (then this client forgets it) or finds it alive (then this
     * client connects again). Any other failure is the store's to report.
     */
    private void lost(int node, FabricException failure) {
        if (!PoolNodes.isUnreachable(failure)) {
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " failed: " + failure.getMessage(),
                    failure);
        }
        unreachable.add(node);
        MetadataService.Membership now;
        try {
            now = metadata.reportUnreachable(node);
        } catch (RuntimeException serverDown) {
            // Reads go on from the other replicas; writes to the group wait for the server's decision.
            LOG.warn("memory node {} failed ({}) and the metadata server, which decides whether it is out, could not be"
                    + " told: {}", nodes.address(node), failure.getMessage(), serverDown.toString());
            return;
        }
        if (now.version() > membership.version()) {
            membership = now;
        }
        if (now.isOut(node)) {
            nodes.disconnect(node);
            unreachable.remove(node);
            return;
        }
        try {
            nodes.reconnect(node);
            unreachable.remove(node);
        } catch (FabricException stillDown) {
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " cannot be reached by this client"
                    + " but the metadata server still reaches it: " + stillDown.getMessage(), stillDown);
        }
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        // Cached keys are read together in one round trip; the rest, and stale cursors, one by one.
        List<byte[]> out = new ArrayList<>(keys.size());
        TrafficCounter op = new TrafficCounter();
        RoundTrip rt = RoundTrip.on(op);
        List<Integer> posted = new ArrayList<>();
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            limits.checkKey(keys.get(i));
            out.add(null);
            Cursor cursor = cursors.get(new KeyBytes(keys.get(i)));
            if (cursor != null) {
                long p = cursor.pointer();
                int node = readableReplica(p);
                Batch b = new Batch(1);
                b.read(nodes.region(node), Pointer.offset(p), Pointer.lengthBytes(p));
                rt.post(nodes.connection(node), b);
                posted.add(i);
                expected.add(cursor.versionId());
            }
        }
        boolean[] done = new boolean[keys.size()];
        if (!posted.isEmpty()) {
            List<RoundTrip.Outcome> results = rt.awaitEach();
            for (int j = 0; j < posted.size(); j++) {
                int i = posted.get(j);
                if (!results.get(j).succeeded()) {
                    continue;   // read again below, one by one, where failures are handled
                }
                EntryLayout.Entry e = EntryLayout.decode(results.get(j).result().bytes(0));
                if (e != null && e.isTail() && e.versionId() == expected.get(j) && Arrays.equals(e.key(), keys.get(i))
                        && visibility.sees(e.lineage(), e.epoch())) {
                    out.set(i, e.tombstone() ? null : e.value());
                    done[i] = true;
                }
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            if (!done[i]) {
                out.set(i, read(new KeyBytes(keys.get(i).clone()), visibility, op));
            }
        }
        gets.add(keys.size());
        addTo(getTraffic, op);
        return out;
    }

    // ---------------------------------------------------------------- PUT / DELETE

    @Override
    public void put(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        TrafficCounter op = new TrafficCounter();
        try {
            write(new KeyBytes(key.clone()), value, false, op);
        } finally {
            puts.increment();
            addTo(putTraffic, op);
        }
    }

    @Override
    public void delete(byte[] key) {
        limits.checkKey(key);
        TrafficCounter op = new TrafficCounter();
        try {
            KeyBytes k = new KeyBytes(key.clone());
            if (cursors.containsKey(k) || lookup(k, op) != null) {
                write(k, new byte[0], true, op);
            }
        } finally {
            deletes.increment();
            addTo(deleteTraffic, op);
        }
    }

    /**
     * Overwrites of keys with a warm cursor share two round trips for the whole batch (three at
     * R > 1): the new versions are written to every replica in one, linked with one CAS each on
     * their primaries in the next, and those links copied to the backups in a third. New keys share
     * two as well: their versions are written in one, and the metadata server creates them all in
     * one call. Anything else (deletes, a CAS that lost a race, a key another client created, a
     * failed node) takes the path of a single PUT. Each key is atomic on its own, as a PUT is; of a
     * key given twice, only its last entry is written.
     */
    @Override
    public void putAll(List<KvEntry> entries) {
        for (KvEntry e : entries) {
            limits.checkKey(e.key());
            if (e.value() != null) {
                limits.checkValue(e.value());
            }
        }
        Map<KeyBytes, byte[]> last = new LinkedHashMap<>();
        for (KvEntry e : entries) {
            last.put(new KeyBytes(e.key().clone()), e.value());
        }
        List<Staged> overwrites = new ArrayList<>(last.size());
        List<Staged> creates = new ArrayList<>();
        for (Map.Entry<KeyBytes, byte[]> e : last.entrySet()) {
            KeyBytes key = e.getKey();
            Cursor tail = cursors.get(key);
            if (e.getValue() == null) {
                delete(key.bytes());
            } else if (tail == null) {
                creates.add(new Staged(key, null, e.getValue()));
            } else if (tail.verified() && tail.walked().isEmpty()) {
                overwrites.add(new Staged(key, tail, e.getValue()));
            } else {
                put(key.bytes(), e.getValue());
            }
        }
        inChunks(overwrites, MAX_STAGED, this::putStaged);
        inChunks(creates, MetadataService.MAX_CREATE_ALL, this::createStaged);
    }

    /** Overwrites per batch: two verbs each, well within a batch's verb limit. */
    private static final int MAX_STAGED = FabricLimits.MAX_BATCH_VERBS / 4;

    /** Hands {@code each} runs of at most {@code max} entries that fit a batch's bytes and a create's keys. */
    private static void inChunks(List<Staged> staged, int max, java.util.function.Consumer<List<Staged>> each) {
        int from = 0;
        while (from < staged.size()) {
            int to = from + 1;
            long bytes = staged.get(from).entryBytes();
            long keyBytes = staged.get(from).key.bytes().length;
            while (to < staged.size() && to - from < max
                    && bytes + staged.get(to).entryBytes() <= FabricLimits.MAX_BATCH_BYTES / 2
                    && keyBytes + staged.get(to).key.bytes().length <= MetadataService.MAX_CREATE_ALL_KEY_BYTES) {
                bytes += staged.get(to).entryBytes();
                keyBytes += staged.get(to++).key.bytes().length;
            }
            each.accept(staged.subList(from, to));
            from = to;
        }
    }

    private void putStaged(List<Staged> staged) {
        TrafficCounter op = new TrafficCounter();
        try {
            stage(staged, op);
            writeAllReplicas(staged, op);
            List<Staged> unlinked = casAll(staged, op);
            for (Staged s : unlinked) {
                link(s.key, s.tail, s.mine, false, op);
            }
        } finally {
            puts.add(staged.size());
            addTo(putTraffic, op);
        }
    }

    /**
     * Creates keys this client has no cursor for: their first versions in one round trip, then one
     * call to the metadata server for all. A key that exists after all (another client made it) is
     * appended to, as a single PUT would.
     */
    private void createStaged(List<Staged> staged) {
        TrafficCounter op = new TrafficCounter();
        try {
            stage(staged, op);
            writeAllReplicas(staged, op);
            List<byte[]> keys = new ArrayList<>(staged.size());
            long[] heads = new long[staged.size()];
            for (int i = 0; i < staged.size(); i++) {
                keys.add(staged.get(i).key.bytes());
                heads[i] = staged.get(i).mine.pointer;
            }
            op.addRoundTrips(1);
            List<MetadataService.KeyLocation> locations;
            try {
                locations = callMetadata(() -> metadata.createAll(keys, heads), "create keys");
            } catch (SpaceExhaustedException notAll) {
                createOneByOne(staged, op);   // so that exactly the keys that fit are created
                return;
            }
            for (int i = 0; i < staged.size(); i++) {
                Staged s = staged.get(i);
                if (locations.get(i).created()) {
                    cursors.put(s.key, s.mine.cursor());
                    continue;
                }
                try {
                    link(s.key, Cursor.unverified(locations.get(i).tail()), s.mine, false, op);
                } catch (RuntimeException e) {
                    // The keys after it that the server did not create will not be linked now: free their space.
                    for (int j = i + 1; j < staged.size(); j++) {
                        if (!locations.get(j).created()) {
                            staged.get(j).mine.abandon();
                        }
                    }
                    throw e;
                }
            }
        } finally {
            puts.add(staged.size());
            addTo(putTraffic, op);
        }
    }

    /** Each key on its own; a key that does not fit has its version marked unlinked, and the first such failure is rethrown. */
    private void createOneByOne(List<Staged> staged, TrafficCounter op) {
        SpaceExhaustedException first = null;
        for (Staged s : staged) {
            try {
                link(s.key, null, s.mine, false, op);
            } catch (SpaceExhaustedException full) {
                s.mine.abandon();
                first = first == null ? full : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Gives each staged entry its version, written nowhere yet: after its cursor's, or the first of a new key. */
    private void stage(List<Staged> staged, TrafficCounter op) {
        for (Staged s : staged) {
            long versionId = (clientId << VERSION_COUNTER_BITS) | versionCounter.incrementAndGet();
            long seq = s.tail == null ? 1 : s.tail.seq() + 1;
            byte[] entry = EntryLayout.encode(versionId, seq, s.key.bytes(), s.value, false, lineage, epoch);
            s.mine = new Pending(allocate(entry.length, op), versionId, entry);
        }
    }

    /** One overwrite of a batch: its key, the tail it follows, and its version once written. */
    private static final class Staged {
        final KeyBytes key;
        final Cursor tail;
        final byte[] value;
        Pending mine;
        int cas;

        Staged(KeyBytes key, Cursor tail, byte[] value) {
            this.key = key;
            this.tail = tail;
            this.value = value;
        }

        /** About what its version takes (the header, key and value; the layout may round it up). */
        long entryBytes() {
            return EntryLayout.HEADER_BYTES + key.bytes().length + value.length;
        }
    }

    /** Writes every staged version to every replica of its group in service: one round trip. */
    private void writeAllReplicas(List<Staged> staged, TrafficCounter op) {
        Map<Integer, Batch> byNode = new HashMap<>();
        for (Staged s : staged) {
            long p = s.mine.pointer;
            for (int n : inService(Pointer.group(p))) {
                Batch b = byNode.computeIfAbsent(n, x -> new Batch(2 * staged.size()));
                b.write(nodes.region(n), Pointer.offset(p), s.mine.entry, 0, s.mine.entry.length);
                b.flush(nodes.region(n), Pointer.offset(p), s.mine.entry.length);
            }
        }
        if (postPerNode(byNode, op).containsValue(null)) {
            // Membership changed under the batch: write each version again where its group is now.
            for (Staged s : staged) {
                writeReplicas(s.mine.pointer, 0, s.mine.entry, s.mine.entry.length, op);
            }
        }
    }

    /**
     * Links every staged version after its cached tail with one CAS each on its group's primary,
     * all in one round trip; returns those that must go the single-PUT way (lost race, failure).
     */
    private List<Staged> casAll(List<Staged> staged, TrafficCounter op) {
        Map<Integer, Batch> byNode = new HashMap<>();
        Map<Integer, List<Staged>> order = new HashMap<>();
        for (Staged s : staged) {
            int primary = inService(Pointer.group(s.tail.pointer())).get(0);
            long word = Pointer.offset(s.tail.pointer()) + EntryLayout.NEXT_OFFSET;
            Batch b = byNode.computeIfAbsent(primary, x -> new Batch(2 * staged.size()));
            s.cas = b.compareAndSwap(nodes.region(primary), word, EntryLayout.openMarker(s.tail.versionId()),
                    s.mine.pointer);
            b.flush(nodes.region(primary), word, 8);
            order.computeIfAbsent(primary, x -> new ArrayList<>()).add(s);
        }
        List<Staged> linked = new ArrayList<>();
        List<Staged> unlinked = new ArrayList<>();
        for (Map.Entry<Integer, BatchResult> posted : postPerNode(byNode, op).entrySet()) {
            List<Staged> mine = order.get(posted.getKey());
            BatchResult r = posted.getValue();
            if (r == null) {
                unlinked.addAll(mine);   // the single path finds out whether each CAS took effect
                continue;
            }
            for (Staged s : mine) {
                if (r.swapped(s.cas) || r.oldValue(s.cas) == s.mine.pointer) {
                    linked.add(s);
                } else {
                    unlinked.add(s);
                }
            }
        }
        if (layout.replication() > 1) {
            unlinked.addAll(linkAllBackups(linked, op));
        }
        for (Staged s : linked) {
            cursors.put(s.key, s.mine.cursor());
            if (s.mine.seq() % retireEvery == 0) {
                retire(s.key, s.tail.pointer(), s.mine);
            }
        }
        return unlinked;
    }

    /**
     * Copies the links committed on the primaries to the backups in service, with the same CAS as
     * {@link #linkBackups}, all in one round trip. Removes from {@code linked}, and returns, those
     * whose backups failed or disagreed: the single path settles each of them.
     */
    private List<Staged> linkAllBackups(List<Staged> linked, TrafficCounter op) {
        Map<Integer, Batch> byNode = new HashMap<>();
        Map<Integer, List<Staged>> order = new HashMap<>();
        for (Staged s : linked) {
            List<Integer> replicas = inService(Pointer.group(s.tail.pointer()));
            long word = Pointer.offset(s.tail.pointer()) + EntryLayout.NEXT_OFFSET;
            for (int n : replicas.subList(1, replicas.size())) {
                Batch b = byNode.computeIfAbsent(n, x -> new Batch(2 * linked.size()));
                b.compareAndSwap(nodes.region(n), word, EntryLayout.openMarker(s.tail.versionId()), s.mine.pointer);
                b.flush(nodes.region(n), word, 8);
                order.computeIfAbsent(n, x -> new ArrayList<>()).add(s);
            }
        }
        Set<Staged> unsettled = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<Integer, BatchResult> posted : postPerNode(byNode, op).entrySet()) {
            List<Staged> mine = order.get(posted.getKey());
            BatchResult r = posted.getValue();
            if (r == null) {
                unsettled.addAll(mine);
                continue;
            }
            for (int j = 0; j < mine.size(); j++) {
                long old = r.oldValue(2 * j);   // each entry is a CAS and its flush
                if (!r.swapped(2 * j) && old != mine.get(j).mine.pointer && !EntryLayout.isUnlinked(old)) {
                    unsettled.add(mine.get(j));
                }
            }
        }
        linked.removeIf(unsettled::contains);
        return new ArrayList<>(unsettled);
    }

    /**
     * Posts each node's batch, all in one round trip. A node whose batch failed is reported (see
     * {@link #lost}) and maps to null; the others map to their results.
     */
    private Map<Integer, BatchResult> postPerNode(Map<Integer, Batch> byNode, TrafficCounter op) {
        Map<Integer, BatchResult> results = new HashMap<>();
        postEachNode(byNode, op).forEach((n, o) -> results.put(n, o.succeeded() ? o.result() : null));
        return results;
    }

    /** As {@link #postPerNode}, keeping each node's outcome (its failure included). */
    private Map<Integer, RoundTrip.Outcome> postEachNode(Map<Integer, Batch> byNode, TrafficCounter op) {
        RoundTrip rt = RoundTrip.on(op);
        List<Integer> posted = new ArrayList<>(byNode.keySet());
        for (int n : posted) {
            rt.post(nodes.connection(n), byNode.get(n));
        }
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        Map<Integer, RoundTrip.Outcome> results = new LinkedHashMap<>();
        for (int i = 0; i < posted.size(); i++) {
            RoundTrip.Outcome o = outcomes.get(i);
            if (!o.succeeded()) {
                lost(posted.get(i), o.failure());
            }
            results.put(posted.get(i), o);
        }
        return results;
    }

    private void write(KeyBytes key, byte[] value, boolean tombstone, TrafficCounter op) {
        Cursor tail = cursors.get(key);
        long versionId = (clientId << VERSION_COUNTER_BITS) | versionCounter.incrementAndGet();
        long seq = tail != null && tail.verified() ? tail.seq() + 1 : 1;
        byte[] entry = EntryLayout.encode(versionId, seq, key.bytes(), value, tombstone, lineage, epoch);
        long version = allocate(entry.length, op);
        writeReplicas(version, 0, entry, entry.length, op);
        Pending mine = new Pending(version, versionId, entry);
        // After a failure the version may be linked already (a commit whose answer was lost): only a
        // deletion that found nothing to delete knows it never will be.
        if (!link(key, tail, mine, tombstone, op)) {
            mine.abandon();
        }
    }

    /** Links a written version: creates the key, or appends to its chain; false when a deletion finds nothing to delete. */
    private boolean link(KeyBytes key, Cursor tail, Pending mine, boolean tombstone, TrafficCounter op) {
        while (true) {
            if (tail == null && tombstone) {
                tail = lookup(key, op);
                if (tail == null) {
                    return false;   // removed meanwhile: nothing to delete
                }
            }
            if (tail == null) {
                op.addRoundTrips(1);
                if (mine.seq() != 1) {
                    mine.reposition(1, op);
                }
                MetadataService.KeyLocation loc = callMetadata(() -> metadata.create(key.bytes(), mine.pointer),
                        "create a key");
                if (loc.created()) {
                    cursors.put(key, mine.cursor());
                    return true;
                }
                tail = Cursor.unverified(loc.tail());
            }
            if (append(key, tail, mine, op)) {
                return true;
            }
            // The chain could not be followed from there: ask the server where it ends now.
            cursors.remove(key);
            tail = lookup(key, op);
        }
    }

    /** A written, not yet linked version: its header is rewritten if its chain position changes. */
    private final class Pending {
        private final long pointer;
        private final long versionId;
        private final byte[] entry;

        Pending(long pointer, long versionId, byte[] entry) {
            this.pointer = pointer;
            this.versionId = versionId;
            this.entry = entry;
        }

        long seq() {
            return (long) LONG.get(entry, EntryLayout.SEQ_OFFSET);
        }

        boolean tombstone() {
            return EntryLayout.header(entry).tombstone();
        }

        Cursor cursor() {
            return new Cursor(pointer, versionId, seq(), List.of());
        }

        /**
         * Marks the version unlinked, so that its block can be reused: it was written but will never
         * be linked. Best effort: a failure here only keeps the block from being reused.
         */
        void abandon() {
            byte[] unlinked = new byte[8];
            LONG.set(unlinked, 0, EntryLayout.UNLINKED);
            try {
                writeReplicas(pointer, EntryLayout.NEXT_OFFSET, unlinked, 8, new TrafficCounter());
            } catch (RuntimeException e) {
                LOG.debug("an abandoned version could not be marked unlinked: {}", e.toString());
            }
        }

        /** Rewrites the header (checksum to seq) on every replica: one round trip. */
        void reposition(long seq, TrafficCounter op) {
            EntryLayout.setSeq(entry, seq);
            writeReplicas(pointer, EntryLayout.CRC_OFFSET, Arrays.copyOfRange(entry, EntryLayout.CRC_OFFSET,
                    EntryLayout.HEADER_BYTES), EntryLayout.HEADER_BYTES - EntryLayout.CRC_OFFSET, op);
        }
    }

    /**
     * Links {@code mine} after the chain's tail, chasing the tail from {@code from}; false when the
     * chain cannot be followed from there (its space was reclaimed, or the chain was sealed).
     */
    private boolean append(KeyBytes key, Cursor from, Pending mine, TrafficCounter op) {
        Cursor at = from;
        List<Link> walked = from.walked();
        int failovers = 0;
        while (true) {
            if (!at.verified()) {
                // A pointer without its id (from the server, or a link just followed): learn the id.
                EntryLayout.Entry e = readEntry(at.pointer(), op);
                if (e == null || e.isUnlinked() || !Arrays.equals(e.key(), key.bytes())) {
                    return false;
                }
                if (!e.isTail()) {
                    walked = follow(at.pointer(), e, walked, op);
                    at = Cursor.unverified(e.next());
                    continue;
                }
                at = Cursor.of(at.pointer(), e);
            }
            if (at.pointer() == mine.pointer) {
                return true;   // the chain ends at this very version: an earlier attempt linked it
            }
            if (mine.seq() != at.seq() + 1) {
                mine.reposition(at.seq() + 1, op);
            }
            List<Integer> replicas = inService(Pointer.group(at.pointer()));
            int primary = replicas.get(0);
            long word = Pointer.offset(at.pointer()) + EntryLayout.NEXT_OFFSET;
            long marker = EntryLayout.openMarker(at.versionId());
            Batch b = new Batch(2);
            int cas = b.compareAndSwap(nodes.region(primary), word, marker, mine.pointer);
            b.flush(nodes.region(primary), word, 8);
            RoundTrip rt = RoundTrip.on(op);
            rt.post(nodes.connection(primary), b);
            BatchResult r;
            try {
                r = rt.await().get(0);
            } catch (FabricException failed) {
                lost(primary, failed);
                if (++failovers > layout.replication()) {
                    throw new StoreUnavailableException("the primary of group " + Pointer.group(at.pointer())
                            + " keeps failing and no other node of the group has been put in its place", failed);
                }
                continue;   // the same CAS on whichever node is the group's primary now
            }
            // Finding its own pointer means an earlier attempt linked it before a failover.
            if (r.swapped(cas) || r.oldValue(cas) == mine.pointer) {
                if (replicas.size() > 1 && !linkBackups(walked, at.pointer(), marker, mine.pointer, op)) {
                    if (++failovers > layout.replication()) {
                        throw new StoreUnavailableException("the replicas of group " + Pointer.group(at.pointer())
                                + " keep changing under a write");
                    }
                    continue;   // a backup holds another successor: the primary changed; start again there
                }
                cursors.put(key, mine.cursor());
                if (mine.seq() % retireEvery == 0 || mine.tombstone()) {
                    retire(key, at.pointer(), mine);
                }
                return true;
            }
            long found = r.oldValue(cas);
            if (EntryLayout.isTail(found) || EntryLayout.isUnlinked(found)) {
                return false;
            }
            // Another writer's commit: it may have died before copying its link to the backups, and
            // a version linked after its own would then hang off nothing there. Copy it first.
            if (replicas.size() > 1 && !linkBackups(walked, at.pointer(), marker, found, op)) {
                if (++failovers > layout.replication()) {
                    throw new StoreUnavailableException("the replicas of group " + Pointer.group(at.pointer())
                            + " keep changing under a write");
                }
                continue;   // the primary changed: the CAS again, on the new one
            }
            walked = List.of();
            at = Cursor.unverified(found);
        }
    }

    /**
     * {@code walked} and the link from {@code e} that was just followed, which backups may lack. A
     * cursor that keeps being walked forward without a write copies its links to the backups on
     * their own once there are {@link #MAX_WALKED} of them (one round trip), so the list stays short.
     */
    private List<Link> follow(long version, EntryLayout.Entry e, List<Link> walked, TrafficCounter op) {
        if (layout.replication() == 1) {
            return walked;
        }
        List<Link> more = new ArrayList<>(walked.size() + 1);
        more.addAll(walked);
        more.add(new Link(version, e.versionId(), e.next()));
        if (more.size() < MAX_WALKED) {
            return more;
        }
        Map<Integer, Batch> byNode = new HashMap<>();
        copyWalked(byNode, more);
        postPerNode(byNode, op);
        return List.of();
    }

    /**
     * Copies a committed link to the backups in service, with a CAS from the open marker so that
     * it can never overwrite another successor: after a primary fails, the first CAS on the new
     * primary decides. False when a backup holds another successor (the membership changed under
     * this write: the caller commits again on the current primary).
     *
     * <p>The links {@code walked} to reach {@code version} go to the backups of their own groups in
     * the same round trip, ahead of this link in any batch they share; the write is acknowledged
     * only once all are durable. Their CASes need no check: a failed one found the link there already, or its version was
     * collected (the collector then linked around it on every replica) and perhaps reused, which
     * the version id in the open marker tells apart.
     */
    private boolean linkBackups(List<Link> walked, long version, long marker, long successor, TrafficCounter op) {
        for (int attempt = 0; ; attempt++) {
            List<Integer> replicas = inService(Pointer.group(version));
            List<Integer> backups = replicas.subList(1, replicas.size());
            long word = Pointer.offset(version) + EntryLayout.NEXT_OFFSET;
            Map<Integer, Batch> byNode = new LinkedHashMap<>();
            copyWalked(byNode, walked);   // ahead of this link in every batch they share
            Map<Integer, Integer> own = new HashMap<>();
            for (int n : backups) {
                Batch b = byNode.computeIfAbsent(n, x -> new Batch(2));
                own.put(n, b.compareAndSwap(nodes.region(n), word, marker, successor));
                b.flush(nodes.region(n), word, 8);
            }
            FabricException failed = null;
            for (Map.Entry<Integer, RoundTrip.Outcome> posted : postEachNode(byNode, op).entrySet()) {
                int n = posted.getKey();
                RoundTrip.Outcome o = posted.getValue();
                Integer cas = own.get(n);
                if (!o.succeeded()) {
                    failed = o.failure();
                } else if (cas != null && !o.result().swapped(cas) && o.result().oldValue(cas) != successor
                        && !EntryLayout.isUnlinked(o.result().oldValue(cas))) {
                    // (Unlinked: a later writer linked past this version and the collector took it
                    // out, on every replica, after linking its predecessor or head to the successor.)
                    refreshMembership();
                    if (inService(Pointer.group(version)).get(0) == replicas.get(0)) {
                        throw new IllegalStateException("backup " + nodes.address(n) + " holds another"
                                + " successor than its primary " + nodes.address(replicas.get(0)) + ": the replicas"
                                + " of group " + Pointer.group(version) + " diverged");
                    }
                    return false;
                }
            }
            if (failed == null) {
                return true;
            }
            if (attempt == layout.replication()) {
                throw new StoreUnavailableException("the backups of group " + Pointer.group(version) + " keep failing: "
                        + failed.getMessage(), failed);
            }
        }
    }

    /**
     * Adds, for each link walked, a CAS from its open marker and a FLUSH to the batch of every
     * backup of the link's own group (see {@link #linkBackups}).
     */
    private void copyWalked(Map<Integer, Batch> byNode, List<Link> walked) {
        for (Link link : walked) {
            List<Integer> replicas = inService(Pointer.group(link.from()));
            long word = Pointer.offset(link.from()) + EntryLayout.NEXT_OFFSET;
            for (int n : replicas.subList(1, replicas.size())) {
                Batch b = byNode.computeIfAbsent(n, x -> new Batch(2 * walked.size() + 2));
                b.compareAndSwap(nodes.region(n), word, EntryLayout.openMarker(link.versionId()), link.to());
                b.flush(nodes.region(n), word, 8);
            }
        }
    }

    private void refreshMembership() {
        MetadataService.Membership now = callMetadata(metadata::membership, "learn the membership");
        if (now.version() > membership.version()) {
            membership = now;
            now.outNodes().forEach(nodes::disconnect);
        }
    }

    /**
     * Writes {@code bytes} at {@code within} the version on every replica in service, with a flush:
     * one round trip. A replica that fails is reported and the write repeated on those left.
     */
    private void writeReplicas(long pointer, int within, byte[] bytes, int length, TrafficCounter op) {
        for (int attempt = 0; ; attempt++) {
            List<Integer> replicas = inService(Pointer.group(pointer));
            RoundTrip rt = RoundTrip.on(op);
            for (int n : replicas) {
                Batch b = new Batch(2);
                b.write(nodes.region(n), Pointer.offset(pointer) + within, bytes, 0, length);
                b.flush(nodes.region(n), Pointer.offset(pointer) + within, length);
                rt.post(nodes.connection(n), b);
            }
            List<RoundTrip.Outcome> outcomes = rt.awaitEach();
            FabricException failed = null;
            for (int i = 0; i < outcomes.size(); i++) {
                if (!outcomes.get(i).succeeded()) {
                    failed = outcomes.get(i).failure();
                    lost(replicas.get(i), failed);
                }
            }
            if (failed == null) {
                return;
            }
            if (attempt == layout.replication()) {
                throw new StoreUnavailableException("the replicas of group " + Pointer.group(pointer) + " keep failing: "
                        + failed.getMessage(), failed);
            }
        }
    }

    /** Tells the server, in the background, that {@code superseded} is garbage now. */
    private void retire(KeyBytes key, long superseded, Pending tail) {
        long seq = tail.seq();
        inBackground(() -> metadata.retire(key.bytes(), superseded, tail.pointer, seq));
    }

    private void inBackground(Runnable notice) {
        try {
            background.execute(() -> {
                try {
                    notice.run();
                } catch (RuntimeException e) {
                    // A lost notice leaves garbage uncollected, nothing worse; the next ones go on.
                    LOG.warn("a notice to the metadata server failed: {}", e.toString());
                }
            });
        } catch (RejectedExecutionException closing) {
            LOG.debug("store closing; notice dropped");
        }
    }

    /**
     * Waits until every notice queued so far (retired versions, sealed blocks) has reached the
     * metadata server, so that what they make garbage can be collected now.
     */
    public void drainNotices() {
        QueuedWork.await(background, 30, LOG, "notices to the metadata server");
    }

    /**
     * Space for one entry in the current block. When it is full, the block is sealed and a new one
     * asked for — after the garbage notices queued so far, so that the server can reclaim first.
     */
    private long allocate(int bytes, TrafficCounter op) {
        synchronized (allocationLock) {
            if (block == null || blockNext + bytes > block.offset() + block.bytes()) {
                sealCurrentBlock();
                drainNotices();
                op.addRoundTrips(1);
                block = callMetadata(() -> metadata.grantBlock(clientId), "get space");
                blockNext = block.offset();
            }
            long p = Pointer.of(block.group(), blockNext, bytes);
            blockNext += bytes;
            return p;
        }
    }

    private void sealCurrentBlock() {
        if (block != null) {
            MetadataService.BlockGrant sealed = block;
            int used = (int) (blockNext - sealed.offset());
            inBackground(() -> metadata.sealBlock(clientId, sealed, used));
            block = null;
        }
    }

    // ---------------------------------------------------------------- scan

    @Override
    public KvCursor scan(byte[] prefix) {
        limits.checkPrefix(prefix);
        return new ScanCursor(prefix.clone(), visibility);
    }

    /** Pages through the server's key index and reads each key's newest version the view admits. */
    private final class ScanCursor implements KvCursor {
        private final byte[] prefix;
        private final Visibility view;
        private final ArrayDeque<KvEntry> ready = new ArrayDeque<>();
        private byte[] after;
        private boolean exhausted;

        ScanCursor(byte[] prefix, Visibility view) {
            this.prefix = prefix;
            this.view = view;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && !exhausted) {
                fetchPage();
            }
            return !ready.isEmpty();
        }

        @Override
        public KvEntry next() {
            if (!hasNext()) {
                throw new NoSuchElementException("scan of prefix has no more entries");
            }
            return ready.poll();
        }

        private void fetchPage() {
            List<MetadataService.KeyLocation> page = callMetadata(() -> metadata.scan(prefix, after, SCAN_PAGE), "scan keys");
            if (page.size() < SCAN_PAGE) {
                exhausted = true;
            }
            TrafficCounter op = new TrafficCounter();
            for (MetadataService.KeyLocation loc : page) {
                KeyBytes key = new KeyBytes(loc.key());
                Cursor cursor = cursors.get(key);
                EntryLayout.Entry e = newestVisible(key, cursor != null ? cursor : Cursor.unverified(loc.tail()), view, op);
                if (e != null && !e.tombstone()) {
                    ready.add(new KvEntry(loc.key(), e.value()));
                }
                after = loc.key();
            }
        }

        @Override
        public void close() {
            exhausted = true;
            ready.clear();
        }
    }

    // ---------------------------------------------------------------- plumbing

    private <T> T callMetadata(java.util.function.Supplier<T> call, String what) {
        try {
            return call.get();
        } catch (FabricException e) {
            throw new StoreUnavailableException("the metadata server could not " + what + ": " + e.getMessage(), e);
        }
    }

    private static void addTo(TrafficCounter total, TrafficCounter op) {
        total.add(op);
    }

    /**
     * How often an operation had to ask the metadata server where a key lives: a cache miss (or a
     * stale or foreign cursor). With {@link #stats()}'s operation counts it gives the hit ratio.
     */
    public long metadataLookups() {
        return metadataLookups.sum();
    }

    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), getTraffic.roundTrips(), putTraffic.roundTrips(),
                deleteTraffic.roundTrips(), getTraffic.verbs() + putTraffic.verbs() + deleteTraffic.verbs(),
                getTraffic.bytes() + putTraffic.bytes() + deleteTraffic.bytes());
    }

    @Override
    public void close() {
        synchronized (allocationLock) {
            sealCurrentBlock();
        }
        background.shutdown();
        slowPath.shutdown();
        try {
            background.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        nodes.close();
    }
}
