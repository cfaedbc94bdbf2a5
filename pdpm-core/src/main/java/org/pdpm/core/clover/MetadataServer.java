package org.pdpm.core.clover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.core.api.SpaceExhaustedException;
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
     * @param logBytes    size of the metadata log area on group 0's nodes
     * @param maxKeys     keys the shortcut table has room for (8 bytes each on group 0's nodes)
     * @param blockBytes  unit of data space handed to clients
     * @param graceMillis how long reclaimed space rests before it is handed out again, so that
     *                    a reader still following a link into it finishes first
     */
    public record Options(int replication, long logBytes, long maxKeys, int blockBytes, long graceMillis) {
        public Options {
            if (graceMillis < 0) {
                throw new IllegalArgumentException("graceMillis=" + graceMillis + " must not be negative");
            }
        }

        /** 16 MiB of log, 2 Mi keys, 1 MiB blocks, 10 s of grace: for nodes of a GiB and more. */
        public static Options defaults(int replication) {
            return new Options(replication, 16L << 20, 1L << 21, 1 << 20, 10_000);
        }
    }

    /** A key in the index: its shortcut slot (creation order) and the newest version known. */
    private static final class KeyState {
        final long index;
        long tail;
        long tailSeq;

        KeyState(long index, long tail, long tailSeq) {
            this.index = index;
            this.tail = tail;
            this.tailSeq = tailSeq;
        }
    }

    /** Bytes a client used of a block (-1 until it sealed it) and bytes of them retired since. */
    private static final class BlockUsage {
        long usedBytes = -1;
        long retiredBytes;
    }

    private record FreeBlock(int group, long index, long dueNanos) {}

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final MetadataLog log;
    private final ConcurrentSkipListMap<CloverKey, KeyState> index = new ConcurrentSkipListMap<>();
    private final long[] nextBlock;
    private final Map<Long, BlockUsage> usage = new HashMap<>();
    private final ArrayDeque<FreeBlock> freeBlocks = new ArrayDeque<>();
    private final long graceNanos;
    private final AtomicInteger groupCursor = new AtomicInteger();
    private long nextClientId = 1;
    private final long recoveryMillis;

    private MetadataServer(PoolNodes nodes, PoolLayout layout, Options options) {
        this.nodes = nodes;
        this.layout = layout;
        this.log = new MetadataLog(nodes, layout);
        this.nextBlock = new long[layout.groupCount()];
        this.graceNanos = TimeUnit.MILLISECONDS.toNanos(options.graceMillis());
        long start = System.nanoTime();
        log.replay(this::apply);
        loadShortcuts();
        reclaimSealedBlocks();
        this.recoveryMillis = (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * Garbage counts die with the server; what the blocks hold does not. Every sealed block is
     * scanned once, so that space retired before a restart is still reclaimed.
     */
    private synchronized void reclaimSealedBlocks() {
        for (Map.Entry<Long, BlockUsage> e : new ArrayList<>(usage.entrySet())) {
            if (e.getValue().usedBytes >= 0) {
                verifyAndMaybeFree(e.getKey(), e.getValue());
            }
        }
    }

    /** Moves every key's hint to its durable shortcut: heads may long have been reclaimed. */
    private void loadShortcuts() {
        KeyState[] byIndex = new KeyState[index.size()];
        for (KeyState k : index.values()) {
            byIndex[(int) k.index] = k;
        }
        int perRead = FabricLimits.MAX_TRANSFER_BYTES / 8;
        for (int from = 0; from < byIndex.length; from += perRead) {
            int n = Math.min(perRead, byIndex.length - from);
            byte[] words = nodes.connection(0).read(nodes.region(0), layout.shortcutOffset(from), n * 8);
            for (int i = 0; i < n; i++) {
                long shortcut = LogRecordLayout.long8(words, i * 8);
                if (shortcut != Pointer.NULL) {
                    byIndex[from + i].tail = shortcut;
                    byIndex[from + i].tailSeq = 0;
                }
            }
        }
    }

    /**
     * Opens the pool on {@code addresses}: formats it when every node is blank, otherwise checks
     * that the nodes form the pool they claim and replays the log.
     */
    public static MetadataServer open(Fabric fabric, List<NodeAddress> addresses, Options options) {
        PoolNodes nodes = PoolNodes.connect(fabric, addresses);
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
        for (int n = 0; n < nodes.size(); n++) {
            Batch b = new Batch(1);
            b.read(nodes.region(n), 0, PoolLayout.SUPERBLOCK_BYTES);
            rt.post(nodes.connection(n), b);
        }
        List<BatchResult> supers = rt.await();
        int blank = 0;
        for (BatchResult r : supers) {
            if (PoolLayout.isBlank(r.bytes(0))) {
                blank++;
            }
        }
        if (blank == nodes.size()) {
            PoolLayout layout = PoolLayout.plan(nodes.size(), options.replication(), nodes.smallestRegionBytes(),
                    options.logBytes(), options.maxKeys(), options.blockBytes());
            RoundTrip write = RoundTrip.on(new TrafficCounter());
            for (int n = 0; n < nodes.size(); n++) {
                Batch b = new Batch(2);
                b.write(nodes.region(n), 0, layout.encodeSuperblock(n));
                b.flush(nodes.region(n), 0, PoolLayout.SUPERBLOCK_BYTES);
                write.post(nodes.connection(n), b);
            }
            write.await();
            LOG.info("formatted pool {} on {} nodes: replication {}, log {} bytes, blocks of {} bytes",
                    layout.poolId(), nodes.size(), layout.replication(), layout.logBytes(), layout.blockBytes());
            return layout;
        }
        if (blank > 0) {
            throw new IllegalStateException(blank + " of " + nodes.size() + " memory nodes are blank and the others hold"
                    + " a pool: a pool's nodes must be given all together, in their original order");
        }
        PoolLayout layout = null;
        for (int n = 0; n < nodes.size(); n++) {
            PoolLayout.Decoded d = PoolLayout.decode(supers.get(n).bytes(0), "memory node " + nodes.address(n));
            if (d.nodeIndex() != n) {
                throw new IllegalStateException("memory node " + nodes.address(n) + " is node " + d.nodeIndex()
                        + " of its pool but was given as node " + n + "; give the nodes in their original order");
            }
            if (layout == null) {
                layout = d.layout();
            } else if (!layout.equals(d.layout())) {
                throw new IllegalStateException("memory node " + nodes.address(n) + " belongs to pool "
                        + d.layout().poolId() + ", not to pool " + layout.poolId() + " like node " + nodes.address(0));
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
                int length = LogRecordLayout.unsignedShort(b, at + 8);
                index.put(new CloverKey(Arrays.copyOfRange(b, at + 10, at + 10 + length)),
                        new KeyState(index.size(), head, 1));
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
        log.append(seq -> LogRecordLayout.client(seq, id));
        nextClientId++;
        return id;
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        KeyState k = index.get(new CloverKey(key));
        if (k == null) {
            return null;
        }
        synchronized (k) {
            followToTail(k);
            return new KeyLocation(key.clone(), k.tail, false);
        }
    }

    /** Walks the key's chain from its known tail to the real one, reading only headers. */
    private void followToTail(KeyState k) {
        for (int hop = 0; hop < MAX_LOOKUP_HOPS; hop++) {
            byte[] header = readFromAnyReplica(k.tail, EntryLayout.HEADER_BYTES);
            k.tailSeq = LogRecordLayout.long8(header, EntryLayout.SEQ_OFFSET);
            long next = LogRecordLayout.long8(header, EntryLayout.NEXT_OFFSET);
            if (EntryLayout.isTail(next)) {
                return;
            }
            k.tail = next;
        }
    }

    /** Reads from the version's primary, or from a backup when the primary does not answer. */
    private byte[] readFromAnyReplica(long pointer, int length) {
        int primary = Pointer.group(pointer) * layout.replication();
        FabricException last = null;
        for (int n = primary; n < primary + layout.replication(); n++) {
            try {
                return nodes.connection(n).read(nodes.region(n), Pointer.offset(pointer), length);
            } catch (FabricException e) {
                last = e;
            }
        }
        throw last;
    }

    @Override
    public synchronized KeyLocation create(byte[] key, long head) {
        CloverKey k = new CloverKey(key.clone());
        KeyState existing = index.get(k);
        if (existing != null) {
            synchronized (existing) {
                followToTail(existing);
                return new KeyLocation(key, existing.tail, false);
            }
        }
        if (index.size() >= layout.maxKeys()) {
            throw new SpaceExhaustedException("the pool's shortcut table holds at most " + layout.maxKeys() + " keys");
        }
        log.append(seq -> LogRecordLayout.key(seq, head, k.bytes()));
        index.put(k, new KeyState(index.size(), head, 1));
        return new KeyLocation(key, head, true);
    }

    @Override
    public void retire(byte[] key, long superseded, long tail, long tailSeq) {
        KeyState k = index.get(new CloverKey(key));
        if (k == null) {
            return;
        }
        synchronized (k) {
            if (tailSeq > k.tailSeq) {
                // Durable before the superseded version can be counted as garbage: a restarted
                // server must never start a key from reclaimed space.
                writeShortcut(k.index, tail);
                k.tail = tail;
                k.tailSeq = tailSeq;
            }
        }
        if (superseded != Pointer.NULL) {
            synchronized (this) {
                BlockUsage u = usage.get(blockKey(superseded));
                if (u != null) {
                    u.retiredBytes += Pointer.lengthBytes(superseded);
                    if (u.usedBytes >= 0 && u.retiredBytes >= u.usedBytes) {
                        verifyAndMaybeFree(blockKey(superseded), u);
                    }
                }
            }
        }
    }

    private void writeShortcut(long keyIndex, long tail) {
        byte[] word = new byte[8];
        LONG.set(word, 0, tail);
        RoundTrip rt = RoundTrip.on(new TrafficCounter());
        for (int n = 0; n < layout.replication(); n++) {
            Batch b = new Batch(2);
            b.write(nodes.region(n), layout.shortcutOffset(keyIndex), word);
            b.flush(nodes.region(n), layout.shortcutOffset(keyIndex), 8);
            rt.post(nodes.connection(n), b);
        }
        rt.await();
    }

    @Override
    public synchronized void sealBlock(long clientId, BlockGrant block, int usedBytes) {
        long index = (block.offset() - layout.dataOffset()) / layout.blockBytes();
        long key = blockKey(block.group(), index);
        BlockUsage u = usage.get(key);
        if (u == null || u.usedBytes >= 0) {
            return;
        }
        log.append(seq -> LogRecordLayout.seal(seq, block.group(), index, usedBytes));
        u.usedBytes = usedBytes;
        // Notices sent to a previous incarnation of this server are lost: count from the block itself.
        verifyAndMaybeFree(key, u);
    }

    /**
     * Reads the block and counts the bytes of versions that have a successor; frees the block when
     * that is every byte used. Counting from notices alone could go wrong (a notice repeated, or
     * lost with a restart); the block's own next words cannot.
     */
    private void verifyAndMaybeFree(long key, BlockUsage u) {
        int group = (int) (key >>> 40);
        long index = key & ((1L << 40) - 1);
        u.retiredBytes = retiredBytesIn(group, index, u.usedBytes);
        if (u.retiredBytes >= u.usedBytes) {
            usage.remove(key);
            freeBlocks.add(new FreeBlock(group, index, System.nanoTime() + graceNanos));
            notifyAll();
        }
    }

    private long retiredBytesIn(int group, long index, long usedBytes) {
        if (usedBytes == 0) {
            return 0;
        }
        int primary = group * layout.replication();
        byte[] bytes = nodes.connection(primary).read(nodes.region(primary), layout.blockOffset(index), (int) usedBytes);
        long retired = 0;
        int at = 0;
        while (at + EntryLayout.HEADER_BYTES <= usedBytes) {
            int length = EntryLayout.lengthAt(bytes, at);
            if (length <= 0 || at + length > usedBytes) {
                break;
            }
            if (!EntryLayout.isTail(LogRecordLayout.long8(bytes, at + EntryLayout.NEXT_OFFSET))) {
                retired += length;
            }
            at += length;
        }
        return retired;
    }

    private long blockKey(int group, long index) {
        return ((long) group << 40) | index;
    }

    private long blockKey(long pointer) {
        return blockKey(Pointer.group(pointer), (Pointer.offset(pointer) - layout.dataOffset()) / layout.blockBytes());
    }

    @Override
    public synchronized BlockGrant grantBlock(long clientId) {
        int groups = layout.groupCount();
        for (int tried = 0; tried < groups; tried++) {
            int g = Math.floorMod(groupCursor.getAndIncrement(), groups);
            if (nextBlock[g] < layout.blocksPerGroup()) {
                long block = nextBlock[g];
                log.append(seq -> LogRecordLayout.block(seq, clientId, g, block));
                nextBlock[g] = block + 1;
                usage.put(blockKey(g, block), new BlockUsage());
                return new BlockGrant(g, layout.blockOffset(block), layout.blockBytes());
            }
        }
        FreeBlock reclaimed = freeBlocks.peek();
        if (reclaimed != null) {
            long waitNanos = reclaimed.dueNanos() - System.nanoTime();
            if (waitNanos > 0) {
                // Still in its grace period: readers may be following links into it. Wait it out.
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SpaceExhaustedException("interrupted while waiting for reclaimed space");
                }
            }
            if (freeBlocks.peek() == reclaimed && reclaimed.dueNanos() <= System.nanoTime()) {
                freeBlocks.poll();
                log.append(seq -> LogRecordLayout.block(seq, clientId, reclaimed.group(), reclaimed.index()));
                usage.put(blockKey(reclaimed.group(), reclaimed.index()), new BlockUsage());
                return new BlockGrant(reclaimed.group(), layout.blockOffset(reclaimed.index()), layout.blockBytes());
            }
            return grantBlock(clientId);
        }
        throw new SpaceExhaustedException("the pool has no free block left: " + groups + " groups of "
                + layout.blocksPerGroup() + " blocks of " + layout.blockBytes() + " bytes are all in use");
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        Map<CloverKey, KeyState> tail = after == null
                ? index.tailMap(new CloverKey(prefix), true)
                : index.tailMap(new CloverKey(after), false);
        List<KeyLocation> out = new ArrayList<>(Math.min(limit, 256));
        for (Map.Entry<CloverKey, KeyState> e : tail.entrySet()) {
            if (!e.getKey().startsWith(prefix) || out.size() == limit) {
                break;
            }
            KeyState k = e.getValue();
            synchronized (k) {
                out.add(new KeyLocation(e.getKey().bytes().clone(), k.tail, false));
            }
        }
        return out;
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

    /** Blocks reclaimed and waiting (or ready) to be handed out again. */
    public synchronized int reclaimedBlocks() {
        return freeBlocks.size();
    }

    @Override
    public void close() {
        nodes.close();
    }
}
