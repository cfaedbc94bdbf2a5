package org.pdpm.core.clover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.core.api.KeyBytes;
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
 * Clover's metadata server: it formats the pool, owns the key index and the space allocator, and
 * keeps every decision in its log on the memory nodes before answering, so a restarted server
 * rebuilds exactly what it had acknowledged by replaying that log. It never touches a value on the
 * data path; clients write versions and commit them with one-sided verbs.
 *
 * <p>It also keeps the lineage tree and the pins (in the same log) and collects garbage per key:
 * it walks the key's chain, keeps the tail and the newest version each live lineage and each pin
 * sees, links the kept versions past the others and marks those {@link EntryLayout#UNLINKED}.
 * A block is reused once every entry in it is unlinked and a grace period has passed.
 */
public final class MetadataServer implements MetadataService, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataServer.class);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Chain hops a lookup follows itself before answering, so clients start near the tail. */
    private static final int MAX_LOOKUP_HOPS = 1024;

    /**
     * How to format a blank pool (ignored, but for replication, when the pool exists) and how to
     * collect garbage.
     *
     * @param logBytes    size of the metadata log area on group 0's nodes; {@link #AUTO}: an eighth
     *                    of a node
     * @param maxKeys     keys the shortcut table has room for (8 bytes each on group 0's nodes);
     *                    {@link #AUTO}: as many as a compacted log half holds
     * @param blockBytes  unit of data space handed to clients
     * @param graceMillis how long reclaimed space rests before it is handed out again, so that
     *                    a reader still following a link into it finishes first
     */
    public record Options(int replication, long logBytes, long maxKeys, int blockBytes, long graceMillis) {
        /** Sizes chosen from the nodes' size when the pool is formatted. */
        public static final long AUTO = 0;

        /**
         * Log bytes a key takes in a snapshot of the log, for keys of up to about 64 bytes: a half
         * of the log must hold one, with every key the table has room for, or the log cannot be
         * compacted (larger keys then fail with a clear {@code SpaceExhaustedException}).
         */
        public static final int LOG_BYTES_PER_KEY = 96;

        public Options {
            if (graceMillis < 0) {
                throw new IllegalArgumentException("graceMillis=" + graceMillis + " must not be negative");
            }
            if (logBytes < 0 || maxKeys < 0) {
                throw new IllegalArgumentException("logBytes=" + logBytes + " and maxKeys=" + maxKeys
                        + " must not be negative (0: chosen from the nodes' size)");
            }
        }

        /** Log and key table from the nodes' size (an eighth of a node), 1 MiB blocks, 10 s of grace. */
        public static Options defaults(int replication) {
            return new Options(replication, AUTO, AUTO, 1 << 20, 10_000);
        }

        /** Room for {@code maxKeys} keys, with a log whose halves can hold a snapshot of them all. */
        public static Options forKeys(int replication, long maxKeys, int blockBytes, long graceMillis) {
            return new Options(replication, logBytesFor(maxKeys), maxKeys, blockBytes, graceMillis);
        }

        static long logBytesFor(long maxKeys) {
            long bytes = Math.max(1L << 20, 2 * maxKeys * LOG_BYTES_PER_KEY + (64 << 10));
            return (bytes + 4095) / 4096 * 4096;
        }

        /** These options with the automatic sizes worked out for nodes of {@code regionBytes}. */
        Options resolvedFor(long regionBytes) {
            long log = logBytes != AUTO ? logBytes : Math.max(1L << 20, regionBytes / 8 / 4096 * 4096);
            long keys = maxKeys != AUTO ? maxKeys : Math.max(1024, (log / 2 - (64 << 10)) / LOG_BYTES_PER_KEY);
            return new Options(replication, log, keys, blockBytes, graceMillis);
        }
    }

    /** Longest chain a collection walks; chains stay short because every overwrite collects. */
    private static final int MAX_CHAIN_WALK = 1 << 16;

    /**
     * A key in the index: its shortcut slot (creation order), where its chain starts (durable in
     * that slot), the newest version known, and whether the last collection kept older versions
     * for a pin or another lineage (such keys are collected again when a pin or lineage goes).
     */
    private static final class KeyState {
        final long index;
        /** Written under the key's lock; read without it by compaction (lock order: key, then server). */
        volatile long head;
        long tail;
        long tailSeq;
        boolean keepsOlder;
        /** Taken out of the index; a thread that found this state before must look the key up again. */
        boolean removed;

        KeyState(long index, long head) {
            this.index = index;
            this.head = head;
            this.tail = head;
            this.tailSeq = 0;
        }
    }

    /** Bytes a client used of a block (-1 until it sealed it) and bytes of them unlinked since. */
    private static final class BlockUsage {
        long usedBytes = -1;
        long unlinkedBytes;
    }


    private record FreeBlock(int group, long index, long dueNanos) {}

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final MetadataLog log;
    private final KeyIndex<KeyState> index = new KeyIndex<>();
    private final long[] nextBlock;
    private final Map<Long, BlockUsage> usage = new HashMap<>();
    private final ArrayDeque<FreeBlock> freeBlocks = new ArrayDeque<>();
    private final long graceNanos;
    private final AtomicInteger groupCursor = new AtomicInteger();
    private long nextClientId = 1;
    /** Shortcut slots: never used from {@code nextSlot} on; below it, those of removed keys are free. */
    private long nextSlot;
    private final java.util.TreeSet<Long> freeSlots = new java.util.TreeSet<>();
    private final LineageTree lineages;
    /** What every live lineage and every pin sees; rebuilt whenever they change. */
    private volatile List<Visibility> views = List.of();
    private final ExecutorService collector;
    /** Whether a sweep of every key waits on the collector thread. */
    private final AtomicBoolean sweepQueued = new AtomicBoolean();
    private volatile boolean sweeping;
    /** Nodes out of service, for good: decided here, logged, never read or written again. */
    private final Set<Integer> out = ConcurrentHashMap.newKeySet();
    private volatile long membershipVersion;
    private final Set<KeyBytes> queued = ConcurrentHashMap.newKeySet();
    private final long recoveryMillis;

    private MetadataServer(PoolNodes nodes, PoolLayout layout, Options options) {
        this.nodes = nodes;
        this.layout = layout;
        this.log = new MetadataLog(nodes, layout, this::isInService);
        this.lineages = new LineageTree(layout.poolId().toString());
        this.nextBlock = new long[layout.groupCount()];
        this.graceNanos = TimeUnit.MILLISECONDS.toNanos(options.graceMillis());
        this.collector = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pdpm-ms-collector");
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        log.replay(this::apply);
        checkReachable();
        log.repairTail();
        rebuildViews();
        loadShortcuts();
        List<KeyBytes> superseded = reclaimSealedBlocks();
        this.recoveryMillis = (System.nanoTime() - start) / 1_000_000;
        superseded.forEach(this::collectLater);
    }

    /**
     * Every node the log does not say is out must be reachable: one that is not may hold the only
     * copy of what its group acknowledged last, so the server refuses to start rather than guess.
     * Nodes out of service that answer anyway are left alone.
     */
    private void checkReachable() {
        for (int n = 0; n < nodes.size(); n++) {
            if (out.contains(n)) {
                nodes.disconnect(n);
            } else if (!nodes.isConnected(n)) {
                throw new StoreUnavailableException("memory node " + nodes.address(n) + " (node " + n + " of pool "
                        + layout.poolId() + ") cannot be reached and was never taken out of service: start it; the"
                        + " metadata server takes a node out only while it runs, when it finds the node dead ("
                        + nodes.connectFailure(n).getMessage() + ")", nodes.connectFailure(n));
            }
        }
    }

    /**
     * Garbage counts die with the server; what the blocks hold does not. Every sealed block is
     * scanned once: blocks whose entries are all unlinked are reclaimed, and the keys of entries
     * that were superseded but not yet collected are returned, to be collected in the background.
     */
    private synchronized List<KeyBytes> reclaimSealedBlocks() {
        Set<KeyBytes> superseded = new LinkedHashSet<>();
        for (Map.Entry<Long, BlockUsage> e : new ArrayList<>(usage.entrySet())) {
            if (e.getValue().usedBytes >= 0) {
                verifyAndMaybeFree(e.getKey(), e.getValue(), superseded);
            }
        }
        return new ArrayList<>(superseded);
    }

    /** Starts every key's chain at its durable shortcut, where one was written. */
    private void loadShortcuts() {
        KeyState[] byIndex = new KeyState[(int) nextSlot];
        for (KeyState k : index.values()) {
            byIndex[(int) k.index] = k;
        }
        int perRead = FabricLimits.MAX_TRANSFER_BYTES / 8;
        for (int from = 0; from < byIndex.length; from += perRead) {
            int n = Math.min(perRead, byIndex.length - from);
            byte[] words = readFromAnyReplica(0, layout.shortcutOffset(from), n * 8);
            for (int i = 0; i < n; i++) {
                long shortcut = LogRecordLayout.long8(words, i * 8);
                if (shortcut != Pointer.NULL && byIndex[from + i] != null) {
                    byIndex[from + i].head = shortcut;
                    byIndex[from + i].tail = shortcut;
                }
            }
        }
    }

    /**
     * Opens the pool on {@code addresses}: formats it when every node is blank, otherwise checks
     * that the nodes form the pool they claim and replays the log.
     */
    public static MetadataServer open(Fabric fabric, List<NodeAddress> addresses, Options options) {
        PoolNodes nodes = PoolNodes.connect(fabric, addresses, n -> false, true);
        try {
            PoolLayout layout = formatOrCheck(nodes, options);
            MetadataServer ms = new MetadataServer(nodes, layout, options);
            LOG.info("metadata server for pool {} ({} nodes, replication {}) recovered {} keys in {} ms", layout.poolId(),
                    layout.nodeCount(), layout.replication(), ms.index.size(), ms.recoveryMillis);
            return ms;
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
    }

    private static PoolLayout formatOrCheck(PoolNodes nodes, Options options) {
        RoundTrip rt = RoundTrip.on(new TrafficCounter());
        List<Integer> connected = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++) {
            if (nodes.isConnected(n)) {
                Batch b = new Batch(1);
                b.read(nodes.region(n), 0, PoolLayout.SUPERBLOCK_BYTES);
                rt.post(nodes.connection(n), b);
                connected.add(n);
            }
        }
        if (connected.isEmpty()) {
            throw new StoreUnavailableException("none of the pool's " + nodes.size() + " memory nodes can be reached: "
                    + nodes.connectFailure(0).getMessage(), nodes.connectFailure(0));
        }
        List<BatchResult> read = rt.await();
        BatchResult[] supers = new BatchResult[nodes.size()];
        int blank = 0;
        for (int i = 0; i < connected.size(); i++) {
            supers[connected.get(i)] = read.get(i);
            if (PoolLayout.isBlank(read.get(i).bytes(0))) {
                blank++;
            }
        }
        if (blank == connected.size() && connected.size() < nodes.size()) {
            int missing = 0;
            while (nodes.isConnected(missing)) {
                missing++;
            }
            throw new StoreUnavailableException("memory node " + nodes.address(missing) + " cannot be reached ("
                    + nodes.connectFailure(missing).getMessage() + "): a new pool is formatted only with every node present",
                    nodes.connectFailure(missing));
        }
        if (blank == nodes.size()) {
            Options sized = options.resolvedFor(nodes.smallestRegionBytes());
            PoolLayout layout = PoolLayout.plan(nodes.size(), options.replication(), nodes.smallestRegionBytes(),
                    sized.logBytes(), sized.maxKeys(), options.blockBytes());
            RoundTrip write = RoundTrip.on(new TrafficCounter());
            for (int n = 0; n < nodes.size(); n++) {
                Batch b = new Batch(2);
                b.write(nodes.region(n), 0, layout.encodeSuperblock(n));
                b.flush(nodes.region(n), 0, PoolLayout.SUPERBLOCK_BYTES);
                write.post(nodes.connection(n), b);
            }
            write.await();
            LOG.info("formatted pool {} on {} nodes: replication {}, log {} bytes, room for {} keys, blocks of {} bytes",
                    layout.poolId(), nodes.size(), layout.replication(), layout.logBytes(), layout.maxKeys(),
                    layout.blockBytes());
            return layout;
        }
        if (blank > 0) {
            throw new IllegalStateException(blank + " of " + nodes.size() + " memory nodes are blank and the others hold"
                    + " a pool: a pool's nodes must be given all together, in their original order");
        }
        PoolLayout layout = null;
        for (int n : connected) {
            PoolLayout.Decoded d = PoolLayout.decode(supers[n].bytes(0), "memory node " + nodes.address(n));
            if (d.nodeIndex() != n) {
                throw new IllegalStateException("memory node " + nodes.address(n) + " is node " + d.nodeIndex()
                        + " of its pool but was given as node " + n + "; give the nodes in their original order");
            }
            if (layout == null) {
                layout = d.layout();
            } else if (!layout.equals(d.layout())) {
                throw new IllegalStateException("memory node " + nodes.address(n) + " belongs to pool "
                        + d.layout().poolId() + ", not to pool " + layout.poolId() + " like node "
                        + nodes.address(connected.get(0)));
            }
        }
        if (layout.nodeCount() != nodes.size()) {
            throw new IllegalStateException("pool " + layout.poolId() + " has " + layout.nodeCount() + " nodes but "
                    + nodes.size() + " were given");
        }
        if (layout.replication() != options.replication()) {
            throw new IllegalArgumentException("pool " + layout.poolId() + " was formatted with replication="
                    + layout.replication() + ", not " + options.replication());
        }
        return layout;
    }

    private void apply(byte type, byte[] b, int at) {
        switch (type) {
            case LogRecordLayout.CLIENT -> nextClientId = Math.max(nextClientId, LogRecordLayout.long8(b, at) + 1);
            case LogRecordLayout.BLOCK -> {
                int group = LogRecordLayout.int4(b, at + 8);
                long block = LogRecordLayout.long8(b, at + 12);
                nextBlock[group] = Math.max(nextBlock[group], block + 1);
                usage.put(blockKey(group, block), new BlockUsage());
            }
            case LogRecordLayout.SEAL -> {
                BlockUsage u = usage.get(blockKey(LogRecordLayout.int4(b, at), LogRecordLayout.long8(b, at + 4)));
                if (u != null) {
                    u.usedBytes = LogRecordLayout.int4(b, at + 12);
                }
            }
            case LogRecordLayout.KEY -> {
                long head = LogRecordLayout.long8(b, at);
                long slot = Integer.toUnsignedLong(LogRecordLayout.int4(b, at + 8));
                int length = LogRecordLayout.unsignedShort(b, at + 12);
                index.put(new KeyBytes(Arrays.copyOfRange(b, at + 14, at + 14 + length)), new KeyState(slot, head));
                freeSlots.remove(slot);
                for (long s = nextSlot; s < slot; s++) {
                    freeSlots.add(s);
                }
                nextSlot = Math.max(nextSlot, slot + 1);
            }
            case LogRecordLayout.REMOVE -> {
                long slot = Integer.toUnsignedLong(LogRecordLayout.int4(b, at));
                int length = LogRecordLayout.unsignedShort(b, at + 4);
                index.remove(new KeyBytes(Arrays.copyOfRange(b, at + 6, at + 6 + length)));
                freeSlots.add(slot);
                nextSlot = Math.max(nextSlot, slot + 1);
            }
            case LogRecordLayout.NEXT -> {
                int group = LogRecordLayout.int4(b, at);
                nextBlock[group] = Math.max(nextBlock[group], LogRecordLayout.long8(b, at + 4));
            }
            case LogRecordLayout.OUT -> {
                out.add(LogRecordLayout.int4(b, at));
                membershipVersion++;
            }
            case LogRecordLayout.LINEAGE -> lineages.addLineage(LogRecordLayout.int4(b, at),
                    LogRecordLayout.int4(b, at + 4), LogRecordLayout.long8(b, at + 8));
            case LogRecordLayout.DROP -> lineages.drop(LogRecordLayout.int4(b, at));
            case LogRecordLayout.PIN, LogRecordLayout.UNPIN -> {
                int lineage = LogRecordLayout.int4(b, at);
                long epoch = LogRecordLayout.long8(b, at + 4);
                int length = LogRecordLayout.unsignedShort(b, at + 12);
                String owner = new String(b, at + 14, length, StandardCharsets.UTF_8);
                if (type == LogRecordLayout.PIN) {
                    lineages.pin(lineage, epoch, owner);
                } else {
                    lineages.unpin(lineage, epoch, owner);
                }
            }
            default -> throw new IllegalStateException("metadata log holds a record of unknown type " + type);
        }
    }

    @Override
    public PoolLayout pool() {
        return layout;
    }

    @Override
    public synchronized long registerClient() {
        long id = nextClientId;
        appendLog(seq -> LogRecordLayout.client(seq, id));
        nextClientId++;
        return id;
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        KeyBytes ck = new KeyBytes(key);
        KeyState k = index.get(ck);
        if (k == null) {
            return null;
        }
        synchronized (k) {
            if (k.removed || !followToTail(ck, k)) {
                return null;
            }
            return new KeyLocation(key.clone(), k.head, k.tail, false);
        }
    }

    /**
     * Walks the key's chain from its known tail to the real one, reading only headers (from the
     * head again when the known tail has been collected meanwhile), then adopts as the known tail
     * the last version of the walk that every replica in service links to: one more round trip,
     * at R > 1, for the whole walk. A link only the primary holds so far belongs to a writer that
     * may still die before copying it to the backups, and a tail handed out past it could be
     * appended to where, once the primary is gone, the chain does not lead.
     */
    private boolean followToTail(KeyBytes key, KeyState k) {
        List<Long> walked = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        long at = k.tail;
        for (int hop = 0; hop < MAX_LOOKUP_HOPS; hop++) {
            EntryLayout.Header h = readHeader(at);
            if (h.isUnlinked()) {
                if (at == k.head) {
                    if ((h.tombstone() || !seenByAnyView(h)) && k.head == durableHead(k)) {
                        // Sealed for removal by a server that stopped before logging it: finish.
                        logRemoval(key, k, k.head);
                        return false;
                    }
                    reloadHead(k);
                }
                walked.clear();
                seqs.clear();
                at = k.head;
                continue;
            }
            walked.add(at);
            seqs.add(h.seq());
            if (h.isTail()) {
                break;
            }
            at = h.next();
        }
        if (walked.isEmpty()) {
            k.tail = k.head;
            return true;
        }
        int n = linkedOnEveryReplicaFromStart(walked);
        k.tail = walked.get(n - 1);
        k.tailSeq = seqs.get(n - 1);
        return true;
    }

    /** As {@link #linkedOnEveryReplica(List)}, and only the start when a replica does not answer. */
    private int linkedOnEveryReplicaFromStart(List<Long> chain) {
        try {
            return linkedOnEveryReplica(chain);
        } catch (StoreUnavailableException e) {
            return 1;
        }
    }

    private boolean seenByAnyView(EntryLayout.Header h) {
        for (Visibility v : views) {
            if (v.sees(h.lineage(), h.epoch())) {
                return true;
            }
        }
        return false;
    }

    private long durableHead(KeyState k) {
        long word = LogRecordLayout.long8(readFromAnyReplica(0, layout.shortcutOffset(k.index), 8), 0);
        return word == Pointer.NULL ? k.head : word;
    }

    /** The head went unlinked under this server (only another server could do that): read the durable one. */
    private void reloadHead(KeyState k) {
        long durable = durableHead(k);
        if (durable == k.head) {
            throw new IllegalStateException("the head " + Pointer.toString(k.head) + " of a key's chain is unlinked: "
                    + "is another metadata server running on this pool?");
        }
        LOG.warn("a key's head moved under this metadata server: is another one running on pool {}?", layout.poolId());
        k.head = durable;
    }

    private EntryLayout.Header readHeader(long pointer) {
        return EntryLayout.header(readFromAnyReplica(pointer, EntryLayout.HEADER_BYTES));
    }

    /** Reads from the version's primary, or from a backup when the primary does not answer. */
    private byte[] readFromAnyReplica(long pointer, int length) {
        return readFromAnyReplica(Pointer.group(pointer), Pointer.offset(pointer), length);
    }

    private byte[] readFromAnyReplica(int group, long offset, int length) {
        FabricException last = null;
        for (int n : inService(group)) {
            try {
                return nodes.connection(n).read(nodes.region(n), offset, length);
            } catch (FabricException e) {
                if (!PoolNodes.isUnreachable(e)) {
                    throw e;
                }
                last = e;
                reportUnreachable(n);
            }
        }
        throw new StoreUnavailableException("no memory node of group " + group + " answers" + (last == null ? ""
                : ": " + last.getMessage()), last);
    }

    @Override
    public KeyLocation create(byte[] key, long head) {
        return createAll(List.of(key), new long[] {head}).get(0);
    }

    @Override
    public List<KeyLocation> createAll(List<byte[]> keys, long[] heads) {
        checkCreateAll(keys, heads);
        KeyLocation[] out = new KeyLocation[keys.size()];
        List<Integer> known = new ArrayList<>();
        synchronized (this) {
            Map<KeyBytes, Integer> fresh = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                KeyBytes k = new KeyBytes(keys.get(i).clone());
                if (index.containsKey(k) || fresh.putIfAbsent(k, i) != null) {
                    known.add(i);
                }
            }
            if (index.size() + fresh.size() > layout.maxKeys()) {
                throw new SpaceExhaustedException("the pool's shortcut table holds at most " + layout.maxKeys()
                        + " keys; " + index.size() + " exist and " + fresh.size() + " more were asked for");
            }
            List<Long> slots = new ArrayList<>(fresh.size());
            RoundTrip clear = RoundTrip.on(new TrafficCounter());
            boolean clearing = false;
            List<java.util.function.LongFunction<byte[]>> records = new ArrayList<>(fresh.size());
            for (Map.Entry<KeyBytes, Integer> e : fresh.entrySet()) {
                Long reused = freeSlots.pollFirst();
                long slot = reused != null ? reused : nextSlot++;
                if (reused != null) {
                    postShortcut(clear, slot, Pointer.NULL);   // not the old key's head, after a restart
                    clearing = true;
                }
                slots.add(slot);
                long head = heads[e.getValue()];
                byte[] k = e.getKey().bytes();
                records.add(seq -> LogRecordLayout.key(seq, head, slot, k));
            }
            try {
                if (clearing) {
                    awaitOrReport(clear);
                }
                appendLog(records);
            } catch (RuntimeException e) {
                freeSlots.addAll(slots);
                throw e;
            }
            int s = 0;
            for (Map.Entry<KeyBytes, Integer> e : fresh.entrySet()) {
                int i = e.getValue();
                index.put(e.getKey(), new KeyState(slots.get(s++), heads[i]));
                out[i] = new KeyLocation(keys.get(i), heads[i], heads[i], true);
            }
        }
        for (int i : known) {
            out[i] = existingLocation(keys.get(i), heads[i]);
        }
        return Arrays.asList(out);
    }

    /** Where an existing key's chain ends, followed under the key's lock; the key is created anew if it was removed meanwhile. */
    private KeyLocation existingLocation(byte[] key, long head) {
        KeyBytes k = new KeyBytes(key.clone());
        KeyState existing = index.get(k);
        if (existing == null) {
            return create(key, head);
        }
        // A key's lock is never taken inside the server's: collections take them the other way round.
        synchronized (existing) {
            if (existing.removed || !followToTail(k, existing)) {
                return create(key, head);
            }
            // Asked again for the head it was created with (a batch that failed after creating it):
            // that version is the key's first, so tell the writer it is linked.
            return new KeyLocation(key, existing.head, existing.tail, existing.head == head);
        }
    }

    private static void checkCreateAll(List<byte[]> keys, long[] heads) {
        if (keys.size() != heads.length) {
            throw new IllegalArgumentException(keys.size() + " keys and " + heads.length + " heads");
        }
        if (keys.size() > MAX_CREATE_ALL) {
            throw new IllegalArgumentException("one createAll takes at most " + MAX_CREATE_ALL + " keys, not "
                    + keys.size());
        }
        long bytes = 0;
        for (byte[] k : keys) {
            bytes += k.length;
        }
        if (bytes > MAX_CREATE_ALL_KEY_BYTES) {
            throw new IllegalArgumentException("one createAll takes at most " + MAX_CREATE_ALL_KEY_BYTES
                    + " bytes of keys, not " + bytes);
        }
    }

    @Override
    public void retire(byte[] key, long superseded, long tail, long tailSeq) {
        KeyBytes ck = new KeyBytes(key);
        KeyState k = index.get(ck);
        if (k == null) {
            return;
        }
        synchronized (k) {
            if (k.removed) {
                return;
            }
            if (tailSeq > k.tailSeq) {
                k.tail = tail;
                k.tailSeq = tailSeq;
            }
            collect(ck, k);
        }
    }

    /** Collects {@code key} on the collector thread, once however often it is asked meanwhile. */
    private void collectLater(KeyBytes key) {
        if (!queued.add(key)) {
            return;
        }
        try {
            collector.execute(() -> {
                queued.remove(key);
                KeyState k = index.get(key);
                if (k == null) {
                    return;
                }
                try {
                    synchronized (k) {
                        if (!k.removed) {
                            collect(key, k);
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.warn("collecting key '{}' failed; it is retried on its next overwrite: {}", key, e.toString());
                }
            });
        } catch (RejectedExecutionException closing) {
            queued.remove(key);
        }
    }

    /**
     * Walks the key's chain, as far as every replica in service links it, and keeps its tail and
     * the newest version every live lineage and every pin sees; links each kept version past the
     * dropped ones after it, durably on every replica (and moves the durable head when the oldest
     * versions go), then marks the dropped ones unlinked. Readers still on a dropped version find
     * it unlinked and start again from the head; its space is reused only after every entry of its
     * block is unlinked and a grace period. Caller holds the key's lock.
     */
    private void collect(KeyBytes key, KeyState k) {
        List<Long> chain = new ArrayList<>();
        List<EntryLayout.Header> headers = new ArrayList<>();
        long at = k.head;
        while (true) {
            EntryLayout.Header h = readHeader(at);
            if (h.isUnlinked()) {
                throw new IllegalStateException("the head " + Pointer.toString(at) + " of a key's chain is unlinked");
            }
            chain.add(at);
            headers.add(h);
            if (h.isTail()) {
                break;
            }
            if (chain.size() == MAX_CHAIN_WALK) {
                LOG.warn("a key's chain is longer than {} versions; collecting its start only", MAX_CHAIN_WALK);
                break;
            }
            at = h.next();
        }
        int n = linkedOnEveryReplica(chain);
        boolean[] keep = new boolean[n];
        keep[n - 1] = true;
        for (Visibility v : views) {
            for (int i = n - 1; i >= 0; i--) {
                if (v.sees(headers.get(i).lineage(), headers.get(i).epoch())) {
                    keep[i] = true;
                    break;
                }
            }
        }
        int kept = 0;
        for (boolean b : keep) {
            kept += b ? 1 : 0;
        }
        k.keepsOlder = kept > 1;
        EntryLayout.Header last = headers.get(n - 1);
        if (last.isTail() && k.tailSeq < last.seq()) {
            k.tail = chain.get(n - 1);
            k.tailSeq = last.seq();
        }
        // The key is absent everywhere, and leaves the index, when all that is kept is its tail and
        // that is a tombstone (seen as the newest version, or not seen) or a version no view sees
        // (written in a lineage since dropped, and not pinned).
        boolean removable = kept == 1 && last.isTail() && (last.tombstone() || !seenByAnyView(last));
        if (kept == n) {
            if (removable) {
                removeKey(key, k, chain.get(n - 1), last);
            }
            return;
        }
        RoundTrip relink = RoundTrip.on(new TrafficCounter());
        List<CompletableFuture<BatchResult>> relinks = new ArrayList<>();
        int previous = -1;
        long newHead = Pointer.NULL;
        for (int i = 0; i < n; i++) {
            if (!keep[i]) {
                continue;
            }
            if (previous < 0 && i > 0) {
                newHead = chain.get(i);
            } else if (previous >= 0 && i > previous + 1) {
                relinks.add(postRelink(relink, chain.get(previous), chain.get(previous + 1), chain.get(i)));
            }
            previous = i;
        }
        if (newHead != Pointer.NULL) {
            postShortcut(relink, k.index, newHead);
        }
        awaitOrReport(relink);
        for (CompletableFuture<BatchResult> r : relinks) {
            if (!r.join().swapped(0)) {
                LOG.warn("a key's chain changed under its collection; left as it was");
                return;
            }
        }
        if (newHead != Pointer.NULL) {
            k.head = newHead;
        }
        byte[] unlinked = new byte[8];
        LONG.set(unlinked, 0, EntryLayout.UNLINKED);
        RoundTrip mark = RoundTrip.on(new TrafficCounter());
        for (int i = 0; i < n; i++) {
            if (!keep[i]) {
                postOnEveryReplica(mark, chain.get(i), EntryLayout.NEXT_OFFSET, unlinked);
            }
        }
        awaitOrReport(mark);
        synchronized (this) {
            for (int i = 0; i < n; i++) {
                if (!keep[i]) {
                    countUnlinked(chain.get(i));
                }
            }
        }
        if (removable) {
            removeKey(key, k, chain.get(n - 1), last);
        }
    }

    /**
     * How many versions from the start of {@code chain} are linked alike on every replica in
     * service. The walk read one replica, whose links may not be on the others yet: a writer copies
     * its link to the backups only after its CAS on the primary succeeds, and a CAS that a dying
     * primary took while the writer saw it fail is made again on the new primary. Collecting past
     * such a link would unlink, on the replicas left, the version that writer then links to.
     */
    private int linkedOnEveryReplica(List<Long> chain) {
        if (layout.replication() == 1) {
            return chain.size();
        }
        // Every node in service is read, even a group's last one: the walk may have read a node taken out since.
        RoundTrip rt = RoundTrip.on(new TrafficCounter());
        List<CompletableFuture<BatchResult>> reads = new ArrayList<>();
        List<Integer> readOf = new ArrayList<>();
        for (int i = 0; i + 1 < chain.size(); i++) {
            long word = Pointer.offset(chain.get(i)) + EntryLayout.NEXT_OFFSET;
            for (int node : inService(Pointer.group(chain.get(i)))) {
                Batch b = new Batch(1);
                b.read(nodes.region(node), word, 8);
                reads.add(rt.post(nodes.connection(node), b));
                readOf.add(i);
            }
        }
        awaitOrReport(rt);
        int n = chain.size();
        for (int j = 0; j < reads.size(); j++) {
            int i = readOf.get(j);
            if (i + 1 < n && LogRecordLayout.long8(reads.get(j).join().bytes(0), 0) != chain.get(i + 1)) {
                n = i + 1;
            }
        }
        return n;
    }

    /**
     * Seals the key's only version, a tombstone, with one CAS from its open marker to
     * {@link EntryLayout#UNLINKED} (a writer appending at that moment wins or loses cleanly, and a
     * writer that loses asks the server and creates the key anew), then logs the removal. A server
     * that stops between the two finishes the removal when it next looks the key up.
     * Caller holds the key's lock.
     */
    private void removeKey(KeyBytes key, KeyState k, long tombstone, EntryLayout.Header h) {
        List<Integer> replicas = inService(Pointer.group(tombstone));
        long word = Pointer.offset(tombstone) + EntryLayout.NEXT_OFFSET;
        Batch cas = new Batch(2);
        cas.compareAndSwap(nodes.region(replicas.get(0)), word, EntryLayout.openMarker(h.versionId()),
                EntryLayout.UNLINKED);
        cas.flush(nodes.region(replicas.get(0)), word, 8);
        RoundTrip seal = RoundTrip.on(new TrafficCounter());
        CompletableFuture<BatchResult> sealed = seal.post(nodes.connection(replicas.get(0)), cas);
        awaitOrReport(seal);
        if (!sealed.join().swapped(0)) {
            return;   // a writer linked a new version first: the key lives on
        }
        byte[] unlinked = new byte[8];
        LONG.set(unlinked, 0, EntryLayout.UNLINKED);
        RoundTrip backups = RoundTrip.on(new TrafficCounter());
        for (int node : replicas.subList(1, replicas.size())) {
            Batch b = new Batch(2);
            b.write(nodes.region(node), word, unlinked);
            b.flush(nodes.region(node), word, 8);
            backups.post(nodes.connection(node), b);
        }
        awaitOrReport(backups);
        logRemoval(key, k, tombstone);
    }

    private void logRemoval(KeyBytes key, KeyState k, long tombstone) {
        synchronized (this) {
            appendLog(seq -> LogRecordLayout.remove(seq, k.index, key.bytes()));
            index.remove(key, k);
            freeSlots.add(k.index);
            countUnlinked(tombstone);
        }
        k.removed = true;
    }

    /** CAS on the primary (the commit of the relink), plain writes to the backups; each flushed. */
    private CompletableFuture<BatchResult> postRelink(RoundTrip rt, long version, long expected,
                                                                          long successor) {
        List<Integer> replicas = inService(Pointer.group(version));
        int primary = replicas.get(0);
        long word = Pointer.offset(version) + EntryLayout.NEXT_OFFSET;
        Batch cas = new Batch(2);
        cas.compareAndSwap(nodes.region(primary), word, expected, successor);
        cas.flush(nodes.region(primary), word, 8);
        CompletableFuture<BatchResult> committed = rt.post(nodes.connection(primary), cas);
        byte[] link = new byte[8];
        LONG.set(link, 0, successor);
        for (int node : replicas.subList(1, replicas.size())) {
            Batch b = new Batch(2);
            b.write(nodes.region(node), word, link);
            b.flush(nodes.region(node), word, 8);
            rt.post(nodes.connection(node), b);
        }
        return committed;
    }

    private void postOnEveryReplica(RoundTrip rt, long version, int within, byte[] bytes) {
        long offset = Pointer.offset(version) + within;
        for (int node : inService(Pointer.group(version))) {
            Batch b = new Batch(2);
            b.write(nodes.region(node), offset, bytes);
            b.flush(nodes.region(node), offset, bytes.length);
            rt.post(nodes.connection(node), b);
        }
    }

    private void postShortcut(RoundTrip rt, long keyIndex, long head) {
        byte[] word = new byte[8];
        LONG.set(word, 0, head);
        for (int n : inService(0)) {
            Batch b = new Batch(2);
            b.write(nodes.region(n), layout.shortcutOffset(keyIndex), word);
            b.flush(nodes.region(n), layout.shortcutOffset(keyIndex), 8);
            rt.post(nodes.connection(n), b);
        }
    }

    private void countUnlinked(long version) {
        long key = blockKey(version);
        BlockUsage u = usage.get(key);
        if (u != null) {
            u.unlinkedBytes += Pointer.lengthBytes(version);
            if (u.usedBytes >= 0 && u.unlinkedBytes >= u.usedBytes) {
                verifyAndMaybeFree(key, u, null);
            }
        }
    }

    @Override
    public synchronized void sealBlock(long clientId, BlockGrant block, int usedBytes) {
        long index = (block.offset() - layout.dataOffset()) / layout.blockBytes();
        long key = blockKey(block.group(), index);
        BlockUsage u = usage.get(key);
        if (u == null || u.usedBytes >= 0) {
            return;
        }
        appendLog(seq -> LogRecordLayout.seal(seq, block.group(), index, usedBytes));
        u.usedBytes = usedBytes;
        // Collections counted before a restart of this server are lost: count from the block itself.
        verifyAndMaybeFree(key, u, null);
    }

    /**
     * Reads the block and counts the bytes of unlinked entries; frees the block when that is every
     * byte used. Counting alone could go wrong (a restart loses counts); the block itself cannot.
     * Keys of entries that were superseded but are still linked go to {@code superseded} when given.
     */
    private void verifyAndMaybeFree(long key, BlockUsage u, Set<KeyBytes> superseded) {
        int group = (int) (key >>> 40);
        long index = key & ((1L << 40) - 1);
        u.unlinkedBytes = unlinkedBytesIn(group, index, u.usedBytes, superseded);
        if (u.unlinkedBytes >= u.usedBytes) {
            usage.remove(key);
            freeBlocks.add(new FreeBlock(group, index, System.nanoTime() + graceNanos));
            notifyAll();
        }
    }

    private long unlinkedBytesIn(int group, long index, long usedBytes, Set<KeyBytes> superseded) {
        if (usedBytes == 0) {
            return 0;
        }
        byte[] bytes = readFromAnyReplica(group, layout.blockOffset(index), (int) usedBytes);
        long unlinked = 0;
        int at = 0;
        while (at + EntryLayout.HEADER_BYTES <= usedBytes) {
            int length = EntryLayout.lengthAt(bytes, at);
            if (length <= 0 || at + length > usedBytes) {
                break;
            }
            long next = LogRecordLayout.long8(bytes, at + EntryLayout.NEXT_OFFSET);
            if (EntryLayout.isUnlinked(next)) {
                unlinked += length;
            } else if (superseded != null && !EntryLayout.isTail(next)) {
                int keyLength = LogRecordLayout.unsignedShort(bytes, at + EntryLayout.KEY_LENGTH_OFFSET);
                superseded.add(new KeyBytes(Arrays.copyOfRange(bytes, at + EntryLayout.HEADER_BYTES,
                        at + EntryLayout.HEADER_BYTES + keyLength)));
            }
            at += length;
        }
        return unlinked;
    }

    private long blockKey(int group, long index) {
        return ((long) group << 40) | index;
    }

    private long blockKey(long pointer) {
        return blockKey(Pointer.group(pointer), (Pointer.offset(pointer) - layout.dataOffset()) / layout.blockBytes());
    }

    /**
     * A fresh block if one is left, else a reclaimed one once its grace period is over. When none
     * is left, collections still queued are waited for before the pool is declared full.
     */
    @Override
    public BlockGrant grantBlock(long clientId) {
        BlockGrant grant = tryGrant(clientId);
        if (grant == null && awaitCollector()) {
            grant = tryGrant(clientId);
        }
        if (grant == null) {
            throw new SpaceExhaustedException("the pool has no free block left: " + layout.groupCount() + " groups of "
                    + layout.blocksPerGroup() + " blocks of " + layout.blockBytes() + " bytes are all in use by"
                    + " versions some lineage or pin still sees (" + pinCount() + " pins held)");
        }
        return grant;
    }

    private synchronized BlockGrant tryGrant(long clientId) {
        int groups = layout.groupCount();
        for (int tried = 0; tried < groups; tried++) {
            int g = Math.floorMod(groupCursor.getAndIncrement(), groups);
            if (nextBlock[g] < layout.blocksPerGroup()) {
                long block = nextBlock[g];
                appendLog(seq -> LogRecordLayout.block(seq, clientId, g, block));
                nextBlock[g] = block + 1;
                usage.put(blockKey(g, block), new BlockUsage());
                return new BlockGrant(g, layout.blockOffset(block), layout.blockBytes());
            }
        }
        while (!freeBlocks.isEmpty()) {
            FreeBlock reclaimed = freeBlocks.peek();
            long waitNanos = reclaimed.dueNanos() - System.nanoTime();
            if (waitNanos > 0) {
                // Still in its grace period: readers may be following links into it. Wait it out.
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SpaceExhaustedException("interrupted while waiting for reclaimed space");
                }
                continue;
            }
            freeBlocks.poll();
            appendLog(seq -> LogRecordLayout.block(seq, clientId, reclaimed.group(), reclaimed.index()));
            usage.put(blockKey(reclaimed.group(), reclaimed.index()), new BlockUsage());
            return new BlockGrant(reclaimed.group(), layout.blockOffset(reclaimed.index()), layout.blockBytes());
        }
        return null;
    }

    /** Waits (up to a minute) for queued collections; false when there were none. */
    private boolean awaitCollector() {
        if (queued.isEmpty() && !sweepQueued.get() && !sweeping) {
            return false;
        }
        QueuedWork.await(collector, 60, LOG, "queued collections");
        return true;
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        java.util.Iterator<Map.Entry<KeyBytes, KeyState>> keys = after == null
                ? index.from(new KeyBytes(prefix), true)
                : index.from(new KeyBytes(after), false);
        List<KeyLocation> out = new ArrayList<>(Math.min(limit, 256));
        while (out.size() < limit && keys.hasNext()) {
            Map.Entry<KeyBytes, KeyState> e = keys.next();
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            KeyState k = e.getValue();
            synchronized (k) {
                out.add(new KeyLocation(e.getKey().bytes().clone(), k.head, k.tail, false));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- membership

    /** The group's nodes in service, primary first; never empty (a group's last node is never taken out). */
    private List<Integer> inService(int group) {
        List<Integer> in = new ArrayList<>(layout.replication());
        for (int n = group * layout.replication(); n < (group + 1) * layout.replication(); n++) {
            if (!out.contains(n)) {
                in.add(n);
            }
        }
        return in;
    }

    private boolean isInService(int node) {
        return !out.contains(node);
    }

    @Override
    public Membership membership() {
        synchronized (out) {
            return new Membership(membershipVersion, new ArrayList<>(new java.util.TreeSet<>(out)));
        }
    }

    @Override
    public synchronized Membership reportUnreachable(int node) {
        if (node < 0 || node >= nodes.size()) {
            throw new IllegalArgumentException("node=" + node + " is not a node of this pool of " + nodes.size());
        }
        if (!out.contains(node) && !answers(node)) {
            takeOut(node, null);
        }
        return membership();
    }

    /** Whether the node answers this server, on its connection or on a new one to the same pool node. */
    private boolean answers(int node) {
        try {
            nodes.connection(node).read(nodes.region(node), 0, PoolLayout.SUPERBLOCK_BYTES);
            return true;
        } catch (FabricException broken) {
            if (!PoolNodes.isUnreachable(broken)) {
                throw broken;
            }
        }
        try {
            nodes.reconnect(node);
            PoolLayout.Decoded d = PoolLayout.decode(nodes.connection(node).read(nodes.region(node), 0,
                    PoolLayout.SUPERBLOCK_BYTES), "memory node " + nodes.address(node));
            return d.nodeIndex() == node && d.layout().equals(layout);
        } catch (RuntimeException gone) {
            return false;
        }
    }

    /**
     * Takes the node out of service for good, durably, unless it is its group's last one in service
     * (then the group's data would be nowhere: the caller gets a {@link StoreUnavailableException}).
     */
    private synchronized void takeOut(int node, Throwable cause) {
        if (out.contains(node)) {
            return;
        }
        int group = node / layout.replication();
        if (inService(group).size() == 1) {
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " does not answer and is the last"
                    + " node in service of replica group " + group + ": its data is unavailable until it returns", cause);
        }
        synchronized (out) {
            out.add(node);
            membershipVersion++;
        }
        nodes.disconnect(node);
        try {
            appendLog(seq -> LogRecordLayout.out(seq, node));
        } catch (RuntimeException e) {
            synchronized (out) {
                out.remove(node);
                membershipVersion--;
            }
            throw e;
        }
        LOG.warn("memory node {} (node {} of group {}) does not answer: taken out of service for good; its group goes"
                + " on with {} of {} replicas", nodes.address(node), node, group, inService(group).size(),
                layout.replication());
    }

    /** Appends to the log; replicas that do not answer are taken out of service, and the append retried. */
    private void appendLog(java.util.function.LongFunction<byte[]> encode) {
        appendLog(List.of(encode));
    }

    /** Appends records together (one write per log replica), taking unreachable replicas out and compacting as needed. */
    private synchronized void appendLog(List<java.util.function.LongFunction<byte[]>> records) {
        boolean compacted = false;
        while (true) {
            try {
                log.append(records);
                return;
            } catch (UnreachableReplicasException e) {
                for (int n : e.nodes()) {
                    takeOut(n, e);
                }
            } catch (MetadataLog.FullException full) {
                if (compacted) {
                    throw new SpaceExhaustedException("the metadata log is full right after compaction; the pool needs"
                            + " a larger log area");
                }
                compactLog();
                compacted = true;
            }
        }
    }

    /**
     * Writes the server's whole state as records into the other half of the log area, which then
     * becomes the live one. Everything the log ever held is in it: clients, blocks and their
     * seals, keys with their slots and heads, lineages, pins and nodes out of service.
     */
    private synchronized void compactLog() {
        long start = System.nanoTime();
        while (true) {
            List<java.util.function.LongFunction<byte[]>> records = snapshot();
            try {
                log.compact(records);
                LOG.info("compacted the metadata log of pool {} into {} records ({} bytes, generation {}) in {} ms",
                        layout.poolId(), records.size() + 1, log.usedBytes(), log.generation(),
                        (System.nanoTime() - start) / 1_000_000);
                return;
            } catch (UnreachableReplicasException e) {
                // Out in the snapshot itself: durable with it, or not at all if the switch never happens.
                for (int n : e.nodes()) {
                    if (inService(n / layout.replication()).size() == 1) {
                        throw new StoreUnavailableException("memory node " + nodes.address(n) + " does not answer and"
                                + " is the last node in service of replica group 0: the metadata log cannot be written", e);
                    }
                    synchronized (out) {
                        out.add(n);
                        membershipVersion++;
                    }
                    nodes.disconnect(n);
                }
            }
        }
    }

    /** The server's state as log records, in an order replay can apply. */
    private List<java.util.function.LongFunction<byte[]>> snapshot() {
        List<java.util.function.LongFunction<byte[]>> records = new ArrayList<>();
        long lastClient = nextClientId - 1;
        records.add(seq -> LogRecordLayout.client(seq, lastClient));
        for (int g = 0; g < nextBlock.length; g++) {
            int group = g;
            long next = nextBlock[g];
            records.add(seq -> LogRecordLayout.next(seq, group, next));
        }
        for (Map.Entry<Long, BlockUsage> e : usage.entrySet()) {
            int group = (int) (e.getKey() >>> 40);
            long block = e.getKey() & ((1L << 40) - 1);
            long used = e.getValue().usedBytes;
            records.add(seq -> LogRecordLayout.block(seq, 0, group, block));
            if (used >= 0) {
                records.add(seq -> LogRecordLayout.seal(seq, group, block, (int) used));
            }
        }
        for (FreeBlock f : freeBlocks) {
            // Sealed with nothing used: a restarted server reclaims it at once, as it is now.
            records.add(seq -> LogRecordLayout.block(seq, 0, f.group(), f.index()));
            records.add(seq -> LogRecordLayout.seal(seq, f.group(), f.index(), 0));
        }
        for (Map.Entry<KeyBytes, KeyState> e : index.entrySet()) {
            byte[] key = e.getKey().bytes();
            // A head read a moment late is harmless: a moved head is in the shortcut table, which wins.
            long head = e.getValue().head;
            long slot = e.getValue().index;
            records.add(seq -> LogRecordLayout.key(seq, head, slot, key));
        }
        for (long slot : freeSlots) {
            records.add(seq -> LogRecordLayout.remove(seq, slot, new byte[0]));
        }
        lineages.snapshot(records);
        for (int n : out) {
            records.add(seq -> LogRecordLayout.out(seq, n));
        }
        return records;
    }

    /** Waits for a round trip; a node that did not answer is checked and maybe taken out, and the caller fails. */
    private void awaitOrReport(RoundTrip rt) {
        try {
            rt.await();
        } catch (FabricException e) {
            if (!PoolNodes.isUnreachable(e)) {
                throw e;
            }
            for (int n = 0; n < nodes.size(); n++) {
                if (!out.contains(n)) {
                    reportUnreachable(n);
                }
            }
            throw new StoreUnavailableException("a memory node failed under a collection: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- lineages and pins

    @Override
    public synchronized int createLineage() {
        return newLineage(-1, 0);
    }

    @Override
    public synchronized int fork(int lineage, long epoch) {
        lineages.checkFork(lineage, epoch);
        return newLineage(lineage, epoch);
    }

    private int newLineage(int parent, long forkEpoch) {
        int id = lineages.nextId();
        appendLog(seq -> LogRecordLayout.lineage(seq, id, parent, forkEpoch));
        lineages.addLineage(id, parent, forkEpoch);
        rebuildViews();
        return id;
    }

    @Override
    public synchronized LineageInfo lineage(int lineage) {
        return lineages.info(lineage);
    }

    @Override
    public void dropLineage(int lineage) {
        synchronized (this) {
            if (!lineages.checkDrop(lineage)) {
                return;
            }
            appendLog(seq -> LogRecordLayout.drop(seq, lineage));
            lineages.drop(lineage);
            rebuildViews();
        }
        sweepLater();
    }

    @Override
    public synchronized void pin(int lineage, long epoch, String owner) {
        if (!lineages.checkPin(lineage, epoch, owner)) {
            return;
        }
        byte[] ownerBytes = LineageTree.ownerBytes(owner);
        appendLog(seq -> LogRecordLayout.pin(seq, LogRecordLayout.PIN, lineage, epoch, ownerBytes));
        lineages.pin(lineage, epoch, owner);
        rebuildViews();
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        boolean dropped;
        synchronized (this) {
            if (!lineages.checkUnpin(lineage, epoch, owner)) {
                return;
            }
            byte[] ownerBytes = LineageTree.ownerBytes(owner);
            appendLog(seq -> LogRecordLayout.pin(seq, LogRecordLayout.UNPIN, lineage, epoch, ownerBytes));
            lineages.unpin(lineage, epoch, owner);
            rebuildViews();
            dropped = !lineages.info(lineage).live();
        }
        if (dropped) {
            sweepLater();   // the pin may have been all that saw some keys' only version
        } else {
            collectKeysKeepingOlder();
        }
    }

    @Override
    public synchronized List<Pin> pins() {
        return lineages.pins();
    }

    private synchronized int pinCount() {
        return lineages.pins().size();
    }

    private void rebuildViews() {
        views = lineages.views();
    }

    /**
     * A lineage went (or the pin of a dropped one): every key is collected, on the collector thread,
     * since keys whose only version it wrote are garbage now as well as older versions it kept.
     * One sweep is queued at a time; a drop during a sweep queues the next.
     */
    private void sweepLater() {
        if (!sweepQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            collector.execute(() -> {
                sweeping = true;
                sweepQueued.set(false);
                try {
                    sweep();
                } finally {
                    sweeping = false;
                }
            });
        } catch (RejectedExecutionException closing) {
            sweepQueued.set(false);
        }
    }

    private void sweep() {
        for (Map.Entry<KeyBytes, KeyState> e : index.entrySet()) {
            KeyState k = e.getValue();
            try {
                synchronized (k) {
                    if (!k.removed) {
                        collect(e.getKey(), k);
                    }
                }
            } catch (RuntimeException ex) {
                LOG.debug("sweeping key '{}' failed; it is collected on its next overwrite: {}", e.getKey(),
                        ex.toString());
            }
        }
    }

    /** A pin went: what only it saw is garbage now, in the keys that kept older versions. */
    private void collectKeysKeepingOlder() {
        for (Map.Entry<KeyBytes, KeyState> e : index.entrySet()) {
            boolean keeps;
            synchronized (e.getValue()) {
                keeps = e.getValue().keepsOlder;
            }
            if (keeps) {
                collectLater(e.getKey());
            }
        }
    }

    /** Versions in {@code key}'s chain from its head to its tail, or 0 when there is no such key. */
    public int chainLength(byte[] key) {
        KeyState k = index.get(new KeyBytes(key));
        if (k == null) {
            return 0;
        }
        synchronized (k) {
            int n = 1;
            for (EntryLayout.Header h = readHeader(k.head); !h.isTail() && n < MAX_CHAIN_WALK; h = readHeader(h.next())) {
                n++;
            }
            return n;
        }
    }

    /** Keys in the index. */
    public int keyCount() {
        return index.size();
    }

    /** How long replaying the log took when this server opened. */
    public long recoveryMillis() {
        return recoveryMillis;
    }

    public long logBytesUsed() {
        return log.usedBytes();
    }

    /** How many times the log has been compacted over the pool's life, plus one. */
    public long logGeneration() {
        return log.generation();
    }

    /** Blocks reclaimed and waiting (or ready) to be handed out again. */
    public synchronized int reclaimedBlocks() {
        return freeBlocks.size();
    }

    /** Waits until every collection queued so far is done (tests and benchmarks). */
    public void awaitCollections() {
        awaitCollector();
    }

    @Override
    public void close() {
        collector.shutdownNow();
        try {
            collector.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        nodes.close();
    }
}
