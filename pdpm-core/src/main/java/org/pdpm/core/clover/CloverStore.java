package org.pdpm.core.clover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.layout.EntryLayout;
import org.pdpm.core.layout.Pointer;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
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
 */
public final class CloverStore implements KvStore {

    private static final Logger LOG = LoggerFactory.getLogger(CloverStore.class);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Hops a read follows from a stale cursor before asking the server for a fresher start. */
    private static final int MAX_HOPS_BEFORE_LOOKUP = 8;
    /** Reads of an entry that fails its checksum before the store gives up on it. */
    private static final int MAX_TORN_READS = 16;
    private static final int SCAN_PAGE = 256;
    /** Version ids are the client id above a per-client counter of this many bits. */
    private static final int VERSION_COUNTER_BITS = 40;

    /**
     * Where this client last saw a key's chain end: a committed version, its id and its position
     * in the chain. Id and position are 0 when the pointer came from the metadata server, which
     * does not track them; the key is then the only check until the entry has been read.
     */
    private record Cursor(long pointer, long versionId, long seq) {
        static Cursor unverified(long pointer) {
            return new Cursor(pointer, 0, 0);
        }

        static Cursor of(long pointer, EntryLayout.Entry e) {
            return new Cursor(pointer, e.versionId(), e.seq());
        }

        boolean verified() {
            return versionId != 0;
        }
    }

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final MetadataService metadata;
    private final long clientId;
    private final KvLimits limits;
    private final ConcurrentHashMap<CloverKey, Cursor> cursors = new ConcurrentHashMap<>();
    /** Nodes whose connection broke; reads go to their group's backups from then on. */
    private final java.util.Set<Integer> unreachable = ConcurrentHashMap.newKeySet();
    private final AtomicLong versionCounter = new AtomicLong();
    private final ExecutorService background;
    private final Object allocationLock = new Object();
    private MetadataService.BlockGrant block;
    private long blockNext;

    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final TrafficCounter getTraffic = new TrafficCounter();
    private final TrafficCounter putTraffic = new TrafficCounter();
    private final TrafficCounter deleteTraffic = new TrafficCounter();

    private CloverStore(PoolNodes nodes, MetadataService metadata, KvLimits limits) {
        this.nodes = nodes;
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

        public CloverStore open() {
            Objects.requireNonNull(fabric, "fabric");
            Objects.requireNonNull(memoryNodes, "memoryNodes");
            Objects.requireNonNull(metadata, "metadata");
            KvLimits l = limits != null ? limits : new KvLimits(1024, metadata.pool().blockBytes() / 4);
            PoolNodes nodes = PoolNodes.connect(fabric, memoryNodes);
            try {
                return new CloverStore(nodes, metadata, l);
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

    // ---------------------------------------------------------------- GET

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        TrafficCounter op = new TrafficCounter();
        try {
            return read(new CloverKey(key.clone()), op);
        } finally {
            gets.increment();
            addTo(getTraffic, op);
        }
    }

    private byte[] read(CloverKey key, TrafficCounter op) {
        Cursor cursor = cursors.get(key);
        if (cursor == null) {
            cursor = lookup(key, op);
            if (cursor == null) {
                return null;
            }
        }
        EntryLayout.Entry tail = readTail(key, cursor, op);
        return tail == null || tail.tombstone() ? null : tail.value();
    }

    private Cursor lookup(CloverKey key, TrafficCounter op) {
        op.addRoundTrips(1);
        MetadataService.KeyLocation loc = callMetadata(() -> metadata.lookup(key.bytes()), "look up a key");
        return loc == null ? null : Cursor.unverified(loc.tail());
    }

    /**
     * Follows the chain from {@code from} to its tail; caches and returns the tail entry, or null
     * when the key has vanished from the index meanwhile. A cursor that no longer names the version
     * it was taken from (its space was reclaimed) sends the read back to the metadata server once.
     */
    private EntryLayout.Entry readTail(CloverKey key, Cursor from, TrafficCounter op) {
        Cursor at = from;
        boolean fromServer = !from.verified();
        int hops = 0;
        while (true) {
            EntryLayout.Entry e = readEntry(at.pointer(), op);
            boolean valid = e != null && Arrays.equals(e.key(), key.bytes())
                    && (!at.verified() || e.versionId() == at.versionId());
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
                continue;
            }
            if (e.isTail()) {
                cursors.put(key, Cursor.of(at.pointer(), e));
                return e;
            }
            at = Cursor.unverified(e.next());
            if (++hops == MAX_HOPS_BEFORE_LOOKUP) {
                Cursor fresher = lookup(key, op);
                if (fresher != null) {
                    at = fresher;
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
            EntryLayout.Entry e;
            try {
                e = EntryLayout.decode(await(RoundTrip.on(op), node, b).get(0).bytes(0));
            } catch (StoreUnavailableException down) {
                if (!unreachable.contains(node) || layout.replication() == 1) {
                    throw down;
                }
                continue;   // that node is now marked down: the next attempt reads a backup
            }
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /**
     * The replica to read {@code pointer} from: the primary, or — when it does not answer — the
     * first backup that does. A backup holds every acknowledged version and link (a PUT returns
     * only once they are on all replicas), so reads survive the loss of R − 1 nodes of a group.
     */
    private int readableReplica(long pointer) {
        int primary = primaryOf(pointer);
        if (layout.replication() == 1 || !unreachable.contains(primary)) {
            return primary;
        }
        for (int n = primary + 1; n < primary + layout.replication(); n++) {
            if (!unreachable.contains(n)) {
                return n;
            }
        }
        throw new StoreUnavailableException("every replica of group " + Pointer.group(pointer) + " ("
                + layout.replication() + " memory nodes from " + nodes.address(primary) + ") is unreachable");
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
            Cursor cursor = cursors.get(new CloverKey(keys.get(i)));
            if (cursor != null) {
                long p = cursor.pointer();
                Batch b = new Batch(1);
                b.read(nodes.region(primaryOf(p)), Pointer.offset(p), Pointer.lengthBytes(p));
                rt.post(nodes.connection(primaryOf(p)), b);
                posted.add(i);
                expected.add(cursor.versionId());
            }
        }
        boolean[] done = new boolean[keys.size()];
        if (!posted.isEmpty()) {
            List<BatchResult> results = awaitAll(rt);
            for (int j = 0; j < posted.size(); j++) {
                int i = posted.get(j);
                EntryLayout.Entry e = EntryLayout.decode(results.get(j).bytes(0));
                if (e != null && e.isTail() && e.versionId() == expected.get(j) && Arrays.equals(e.key(), keys.get(i))) {
                    out.set(i, e.tombstone() ? null : e.value());
                    done[i] = true;
                }
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            if (!done[i]) {
                out.set(i, read(new CloverKey(keys.get(i).clone()), op));
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
            write(new CloverKey(key.clone()), value, false, op);
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
            CloverKey k = new CloverKey(key.clone());
            if (cursors.containsKey(k) || lookup(k, op) != null) {
                write(k, new byte[0], true, op);
            }
        } finally {
            deletes.increment();
            addTo(deleteTraffic, op);
        }
    }

    private void write(CloverKey key, byte[] value, boolean tombstone, TrafficCounter op) {
        Cursor tail = cursors.get(key);
        long versionId = (clientId << VERSION_COUNTER_BITS) | versionCounter.incrementAndGet();
        long seq = tail != null && tail.verified() ? tail.seq() + 1 : 1;
        byte[] entry = EntryLayout.encode(versionId, seq, key.bytes(), value, tombstone, 0, 0);
        long version = allocate(entry.length, op);
        writeReplicas(version, 0, entry, entry.length, op);
        Pending mine = new Pending(version, versionId, entry);

        while (true) {
            if (tail == null) {
                op.addRoundTrips(1);
                if (mine.seq() != 1) {
                    mine.reposition(1, op);
                }
                MetadataService.KeyLocation loc = callMetadata(() -> metadata.create(key.bytes(), version), "create a key");
                if (loc.created()) {
                    cursors.put(key, mine.cursor());
                    return;
                }
                tail = Cursor.unverified(loc.tail());
            }
            if (append(key, tail, mine, op)) {
                return;
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

        Cursor cursor() {
            return new Cursor(pointer, versionId, seq());
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
    private boolean append(CloverKey key, Cursor from, Pending mine, TrafficCounter op) {
        Cursor at = from;
        while (true) {
            if (!at.verified()) {
                // A pointer without its id (from the server, or a link just followed): learn the id.
                EntryLayout.Entry e = readEntry(at.pointer(), op);
                if (e == null || !Arrays.equals(e.key(), key.bytes())) {
                    return false;
                }
                if (!e.isTail()) {
                    at = Cursor.unverified(e.next());
                    continue;
                }
                at = Cursor.of(at.pointer(), e);
            }
            if (mine.seq() != at.seq() + 1) {
                mine.reposition(at.seq() + 1, op);
            }
            int primary = primaryOf(at.pointer());
            long word = Pointer.offset(at.pointer()) + EntryLayout.NEXT_OFFSET;
            Batch b = new Batch(2);
            int cas = b.compareAndSwap(nodes.region(primary), word, EntryLayout.openMarker(at.versionId()), mine.pointer);
            b.flush(nodes.region(primary), word, 8);
            BatchResult r = await(RoundTrip.on(op), primary, b).get(0);
            if (r.swapped(cas)) {
                if (layout.replication() > 1) {
                    byte[] link = new byte[8];
                    LONG.set(link, 0, mine.pointer);
                    writeBackups(at.pointer(), link, op);
                }
                cursors.put(key, mine.cursor());
                retire(key, at.pointer(), mine);
                return true;
            }
            long found = r.oldValue(cas);
            if (EntryLayout.isTail(found)) {
                return false;
            }
            at = Cursor.unverified(found);
        }
    }

    /** Writes {@code bytes} at {@code within} the version on every replica, with a flush: one round trip. */
    private void writeReplicas(long pointer, int within, byte[] bytes, int length, TrafficCounter op) {
        RoundTrip rt = RoundTrip.on(op);
        int first = primaryOf(pointer);
        for (int n = first; n < first + layout.replication(); n++) {
            postWrite(rt, n, Pointer.offset(pointer) + within, bytes, length);
        }
        awaitAll(rt);
    }

    private void writeBackups(long pointer, byte[] bytes, TrafficCounter op) {
        RoundTrip rt = RoundTrip.on(op);
        int first = primaryOf(pointer);
        for (int n = first + 1; n < first + layout.replication(); n++) {
            postWrite(rt, n, Pointer.offset(pointer) + EntryLayout.NEXT_OFFSET, bytes, bytes.length);
        }
        awaitAll(rt);
    }

    private void postWrite(RoundTrip rt, int node, long offset, byte[] bytes, int length) {
        Batch b = new Batch(2);
        b.write(nodes.region(node), offset, bytes, 0, length);
        b.flush(nodes.region(node), offset, length);
        rt.post(nodes.connection(node), b);
    }

    /** Tells the server, in the background, that {@code superseded} is garbage now. */
    private void retire(CloverKey key, long superseded, Pending tail) {
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

    /** Waits until every notice queued so far has reached the server. */
    private void drainNotices() {
        try {
            background.submit(() -> { }).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
                 | RejectedExecutionException e) {
            LOG.warn("notices to the metadata server are not draining: {}", e.toString());
        }
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
        return new ScanCursor(prefix.clone());
    }

    /** Pages through the server's key index and reads each key's newest version. */
    private final class ScanCursor implements KvCursor {
        private final byte[] prefix;
        private final ArrayDeque<KvEntry> ready = new ArrayDeque<>();
        private byte[] after;
        private boolean exhausted;

        ScanCursor(byte[] prefix) {
            this.prefix = prefix;
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
                CloverKey key = new CloverKey(loc.key());
                Cursor cursor = cursors.get(key);
                EntryLayout.Entry tail = readTail(key, cursor != null ? cursor : Cursor.unverified(loc.tail()), op);
                if (tail != null && !tail.tombstone()) {
                    ready.add(new KvEntry(loc.key(), tail.value()));
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

    private int primaryOf(long pointer) {
        return Pointer.group(pointer) * layout.replication();
    }

    private List<BatchResult> await(RoundTrip rt, int node, Batch b) {
        rt.post(nodes.connection(node), b);
        try {
            return rt.await();
        } catch (FabricException e) {
            if (e.status() == FabricException.Status.RETRY_EXCEEDED || e.status() == FabricException.Status.FLUSHED) {
                unreachable.add(node);
            }
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " failed: " + e.getMessage(), e);
        }
    }

    private List<BatchResult> awaitAll(RoundTrip rt) {
        try {
            return rt.await();
        } catch (FabricException e) {
            throw new StoreUnavailableException("a memory node failed: " + e.getMessage(), e);
        }
    }

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
        try {
            background.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        nodes.close();
    }
}
