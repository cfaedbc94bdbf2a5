package org.pdpm.core.clover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.layout.EntryLayout;
import org.pdpm.core.layout.Pointer;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Fabric;
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

    /** Chain hops a lookup follows itself before answering, so clients start near the tail. */
    private static final int MAX_LOOKUP_HOPS = 1024;

    /**
     * How to format a blank pool; ignored (but checked for replication) when the pool exists.
     *
     * @param logBytes   size of the metadata log area on each node
     * @param blockBytes unit of data space handed to clients
     */
    public record Options(int replication, long logBytes, int blockBytes) {
        public static Options defaults(int replication) {
            return new Options(replication, 16L << 20, 1 << 20);
        }
    }

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final MetadataLog log;
    private final ConcurrentSkipListMap<CloverKey, Long> index = new ConcurrentSkipListMap<>();
    private final long[] nextBlock;
    private final AtomicInteger groupCursor = new AtomicInteger();
    private long nextClientId = 1;
    private final long recoveryMillis;

    private MetadataServer(PoolNodes nodes, PoolLayout layout) {
        this.nodes = nodes;
        this.layout = layout;
        this.log = new MetadataLog(nodes, layout);
        this.nextBlock = new long[layout.groupCount()];
        long start = System.nanoTime();
        log.replay(this::apply);
        this.recoveryMillis = (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * Opens the pool on {@code addresses}: formats it when every node is blank, otherwise checks
     * that the nodes form the pool they claim and replays the log.
     */
    public static MetadataServer open(Fabric fabric, List<NodeAddress> addresses, Options options) {
        PoolNodes nodes = PoolNodes.connect(fabric, addresses);
        try {
            PoolLayout layout = formatOrCheck(nodes, options);
            MetadataServer ms = new MetadataServer(nodes, layout);
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
                    options.logBytes(), options.blockBytes());
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
            }
            case LogRecordLayout.KEY -> {
                long head = LogRecordLayout.long8(b, at);
                int length = LogRecordLayout.unsignedShort(b, at + 8);
                index.put(new CloverKey(Arrays.copyOfRange(b, at + 10, at + 10 + length)), head);
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
        CloverKey k = new CloverKey(key.clone());
        Long hint = index.get(k);
        if (hint == null) {
            return null;
        }
        long tail = followToTail(hint);
        index.replace(k, hint, tail);
        return new KeyLocation(key, tail, false);
    }

    /** Walks the chain from {@code pointer} toward its tail, reading only the next words. */
    private long followToTail(long pointer) {
        long at = pointer;
        for (int hop = 0; hop < MAX_LOOKUP_HOPS; hop++) {
            int primary = Pointer.group(at) * layout.replication();
            Batch b = new Batch(1);
            b.read(nodes.region(primary), Pointer.offset(at) + EntryLayout.NEXT_OFFSET, 8);
            long next = LogRecordLayout.long8(nodes.connection(primary).execute(b).bytes(0), 0);
            if (EntryLayout.isTail(next)) {
                return at;
            }
            at = next;
        }
        return at;
    }

    @Override
    public synchronized KeyLocation create(byte[] key, long head) {
        CloverKey k = new CloverKey(key.clone());
        Long existing = index.get(k);
        if (existing != null) {
            return new KeyLocation(key, followToTail(existing), false);
        }
        log.append(seq -> LogRecordLayout.key(seq, head, k.bytes()));
        index.put(k, head);
        return new KeyLocation(key, head, true);
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
                return new BlockGrant(g, layout.blockOffset(block), layout.blockBytes());
            }
        }
        throw new SpaceExhaustedException("the pool has no free block left: " + groups + " groups of "
                + layout.blocksPerGroup() + " blocks of " + layout.blockBytes() + " bytes are all handed out");
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        Map<CloverKey, Long> tail = after == null
                ? index.tailMap(new CloverKey(prefix), true)
                : index.tailMap(new CloverKey(after), false);
        List<KeyLocation> out = new ArrayList<>(Math.min(limit, 256));
        for (Map.Entry<CloverKey, Long> e : tail.entrySet()) {
            if (!e.getKey().startsWith(prefix) || out.size() == limit) {
                break;
            }
            out.add(new KeyLocation(e.getKey().bytes().clone(), e.getValue(), false));
        }
        return out;
    }

    @Override
    public void advance(byte[] key, long tail) {
        index.computeIfPresent(new CloverKey(key), (k, old) -> tail);
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

    @Override
    public void close() {
        nodes.close();
    }
}
