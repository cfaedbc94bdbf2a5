package org.pdpm.core.central;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pdpm.core.api.KeyBytes;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.central.CentralLayout.Control;
import org.pdpm.core.central.CentralLayout.Record;
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
 * pDPM-Central's coordinator: the one process that owns the index and the locks and alone touches
 * the memory nodes. Compute nodes send it GET, PUT, DELETE and SCAN requests (in one JVM directly,
 * or over TCP through {@code CoordinatorRpcServer}).
 *
 * <p><b>Data path.</b> A key lives in place in one fixed-size slot, replicated on the R nodes of
 * its group. A GET takes the key's read lock and READs the slot from the group's first node in
 * service (one round trip), checking the record's checksum, key and sequence against the index. A
 * PUT takes the key's write lock, WRITEs the new record with a FLUSH into a free redo-log entry on
 * all R replicas (one round trip), then WRITEs it with a FLUSH into the slot on all R replicas (a
 * second), and answers. A DELETE does the same with a FREE record, then returns the slot to the free
 * list. With the client's request that is DESIGN §3's 2 round trips per GET and 3 per PUT.
 *
 * <p><b>Nothing only its memory knows.</b> Every record carries a sequence number that grows over
 * the pool's life. On start the coordinator reads every log entry and every slot below the durable
 * high-water mark on every replica in service, and takes as each slot's content the valid copy
 * (slot or log record naming it) of the highest sequence: a PUT that crashed after its log write
 * is completed, one that crashed during it leaves the slot as it was, a torn slot copy is replaced.
 * It writes that content back to every replica, then rebuilds the hashed index, the ordered key
 * index (for prefix scans) and the free list from it. So {@code kill -9} loses nothing acknowledged.
 *
 * <p><b>Membership.</b> A memory node that does not answer (and does not answer a fresh connection
 * either) is taken out of service for good: the decision is written, with a version, into the
 * control block of every node still in service before any write goes on without it. A group's
 * last node is never taken out; operations on its keys fail with {@link StoreUnavailableException}
 * until it returns. On start every node the newest control block does not name as out must answer.
 *
 * <p><b>A write that failed half-way</b> while the coordinator lives (its group became unreachable)
 * leaves the key marked unsure, its log entry held so that the record in it cannot be overwritten.
 * The key's next operation settles the slot from the log and the copies, as recovery would, before
 * it proceeds; a background task does the same for keys nobody touches once their group answers
 * again, which releases the held entries.
 */
public final class Coordinator implements CoordinatorService, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

    private static final int LOCK_STRIPES = 4096;
    /** Slots the high-water mark rises by at a time: one extra round trip per this many new slots. */
    static final long HIGH_WATER_STEP = 4096;
    /** Bytes one scan page reads from the memory nodes at most (but always one entry). */
    private static final int SCAN_PAGE_BYTES = 4 << 20;
    /** Bytes of slots recovery reads per replica and round trip. */
    private static final int RECOVERY_CHUNK_BYTES = 2 << 20;
    private static final int RECOVERY_CHUNK_SLOTS = 1024;
    private static final byte[] EMPTY = new byte[0];
    /** How long a write waits for a free redo-log entry of its group before it fails. */
    private static final long LOG_ENTRY_WAIT_SECONDS = 30;
    private static final long SETTLE_DELAY_MILLIS = 50;
    private static final long SETTLE_RETRY_MILLIS = 500;

    /**
     * How to format a blank pool; an existing pool keeps its own sizes, but replication must match.
     *
     * @param slotBytes   bytes of one slot (and one log entry): a record header of 32 bytes, the key
     *                    and the value must fit, so values may be up to {@code slotBytes - 32 - maxKeyBytes}
     * @param maxKeyBytes largest key
     * @param logEntries  redo-log entries per replica group: PUTs and DELETEs in flight per group at once
     */
    public record Options(int replication, int slotBytes, int maxKeyBytes, int logEntries) {
        public Options {
            if (replication < 1 || replication > 3) {
                throw new IllegalArgumentException("replication=" + replication + " must be 1..3");
            }
            if (slotBytes < 64 || slotBytes % 8 != 0 || slotBytes > FabricLimits.MAX_TRANSFER_BYTES) {
                throw new IllegalArgumentException("slotBytes=" + slotBytes + " must be a multiple of 8 in 64.."
                        + FabricLimits.MAX_TRANSFER_BYTES);
            }
            if (maxKeyBytes < 1 || maxKeyBytes > 0xFFFF || CentralLayout.RECORD_HEADER_BYTES + maxKeyBytes > slotBytes) {
                throw new IllegalArgumentException("maxKeyBytes=" + maxKeyBytes + " must be 1..65535 and leave room"
                        + " in a slot of slotBytes=" + slotBytes);
            }
            if (logEntries < 1 || logEntries > 4096) {
                throw new IllegalArgumentException("logEntries=" + logEntries + " must be 1..4096");
            }
        }

        /** Slots of 2 KiB: keys up to 512 bytes, values up to 1,504 bytes; 64 log entries per group. */
        public static Options defaults(int replication) {
            return new Options(replication, 2048, 512, 64);
        }

        /** Options whose slots hold any key and value within {@code limits}. */
        public static Options forLimits(int replication, KvLimits limits) {
            int slot = (CentralLayout.RECORD_HEADER_BYTES + limits.maxKeyBytes() + limits.maxValueBytes() + 7) / 8 * 8;
            return new Options(replication, slot, limits.maxKeyBytes(), defaults(replication).logEntries());
        }
    }

    /** A key in the index. Fields change under the key's write lock; unlocked scans re-check them. */
    private static final class KeyState {
        final long slot;
        volatile long seq;
        volatile int valueLength;
        /** The last write failed half-way: the slot must be settled before the key is used again. */
        volatile boolean unsure;
        /** The log entry of that write, held until the slot is settled; -1 when none. */
        int heldEntry = -1;

        KeyState(long slot, long seq, int valueLength) {
            this.slot = slot;
            this.seq = seq;
            this.valueLength = valueLength;
        }
    }

    private final PoolNodes nodes;
    private final CentralLayout layout;
    private final KvLimits limits;
    private final ConcurrentHashMap<KeyBytes, KeyState> index = new ConcurrentHashMap<>();
    private final ConcurrentSkipListMap<KeyBytes, KeyState> ordered = new ConcurrentSkipListMap<>();
    private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[LOCK_STRIPES];
    private final List<ArrayBlockingQueue<Integer>> freeLogEntries = new ArrayList<>();
    private final AtomicLong nextSeq = new AtomicLong(1);
    private final Object allocationLock = new Object();
    private final ArrayDeque<Long> freeSlots = new ArrayDeque<>();
    private long nextSlot;
    private final Object controlLock = new Object();
    private volatile Control control;
    private final long recoveryMillis;
    private final int repairedSlots;
    /** Keys whose last write failed half-way, settled in the background once their group answers. */
    private final Set<KeyBytes> unsettled = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService settler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pdpm-coordinator-settler");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    private Coordinator(PoolNodes nodes, CentralLayout layout, Control durable) {
        this.nodes = nodes;
        this.layout = layout;
        this.limits = new KvLimits(layout.maxKeyBytes(), layout.maxValueBytes());
        for (int i = 0; i < LOCK_STRIPES; i++) {
            stripes[i] = new ReentrantReadWriteLock();
        }
        for (int g = 0; g < layout.groupCount(); g++) {
            ArrayBlockingQueue<Integer> q = new ArrayBlockingQueue<>(layout.logEntries());
            for (int e = 0; e < layout.logEntries(); e++) {
                q.add(e);
            }
            freeLogEntries.add(q);
        }
        long start = System.nanoTime();
        this.control = durable;
        for (int n = 0; n < nodes.size(); n++) {
            if (durable.isOut(n)) {
                nodes.disconnect(n);
            } else if (!nodes.isConnected(n)) {
                FabricException why = nodes.connectFailure(n);
                throw new StoreUnavailableException("memory node " + nodes.address(n) + " (node " + n + " of pool "
                        + layout.poolId() + ") cannot be reached and was never taken out of service: start it; the"
                        + " coordinator takes a node out only while it runs, when it finds the node dead"
                        + (why == null ? "" : " (" + why.getMessage() + ")"), why);
            }
        }
        synchronized (controlLock) {
            writeControl(new Control(durable.version() + 1, durable.outMask(), durable.highWater()), new TrafficCounter());
        }
        this.repairedSlots = recover();
        this.recoveryMillis = (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * Opens the pool on {@code addresses}: formats it when every node is blank, otherwise checks
     * that the nodes form the pool they claim and recovers the index from them.
     */
    public static Coordinator open(Fabric fabric, List<NodeAddress> addresses, Options options) {
        if (addresses.size() > CentralLayout.MAX_NODES) {
            throw new IllegalArgumentException(addresses.size() + " memory nodes given; a Central pool has at most "
                    + CentralLayout.MAX_NODES);
        }
        PoolNodes nodes = PoolNodes.connect(fabric, addresses, n -> false, true);
        try {
            Formatted f = formatOrCheck(nodes, options);
            Coordinator c = new Coordinator(nodes, f.layout(), f.control());
            LOG.info("coordinator for pool {} ({} nodes, replication {}, {} slots of {} bytes) recovered {} keys in {} ms"
                            + " ({} slots repaired)", f.layout().poolId(), f.layout().nodeCount(), f.layout().replication(),
                    f.layout().totalSlots(), f.layout().slotBytes(), c.index.size(), c.recoveryMillis, c.repairedSlots);
            return c;
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
    }

    private record Formatted(CentralLayout layout, Control control) {}

    private static Formatted formatOrCheck(PoolNodes nodes, Options options) {
        RoundTrip rt = RoundTrip.on(new TrafficCounter());
        List<Integer> connected = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++) {
            if (nodes.isConnected(n)) {
                Batch b = new Batch(1);
                b.read(nodes.region(n), 0, CentralLayout.HEADER_BYTES);
                rt.post(nodes.connection(n), b);
                connected.add(n);
            }
        }
        if (connected.isEmpty()) {
            throw new StoreUnavailableException("none of the pool's " + nodes.size() + " memory nodes can be reached: "
                    + nodes.connectFailure(0).getMessage(), nodes.connectFailure(0));
        }
        List<BatchResult> read = rt.await();
        byte[][] headers = new byte[nodes.size()][];
        int blank = 0;
        for (int i = 0; i < connected.size(); i++) {
            headers[connected.get(i)] = read.get(i).bytes(0);
            if (CentralLayout.isBlank(headers[connected.get(i)])) {
                blank++;
            }
        }
        if (blank == connected.size() && connected.size() < nodes.size()) {
            int missing = 0;
            while (nodes.isConnected(missing)) {
                missing++;
            }
            throw new StoreUnavailableException("memory node " + nodes.address(missing) + " cannot be reached ("
                    + nodes.connectFailure(missing).getMessage() + "): a new pool is formatted only with every node"
                    + " present", nodes.connectFailure(missing));
        }
        if (blank == nodes.size()) {
            CentralLayout layout = CentralLayout.plan(nodes.size(), options.replication(), nodes.smallestRegionBytes(),
                    options.slotBytes(), options.maxKeyBytes(), options.logEntries());
            Control initial = new Control(1, 0, 0);
            RoundTrip write = RoundTrip.on(new TrafficCounter());
            for (int n = 0; n < nodes.size(); n++) {
                Batch b = new Batch(3);
                b.write(nodes.region(n), 0, layout.encodeSuperblock(n));
                b.write(nodes.region(n), CentralLayout.controlOffset(initial.version()), CentralLayout.encodeControl(initial));
                b.flush(nodes.region(n), 0, CentralLayout.HEADER_BYTES);
                write.post(nodes.connection(n), b);
            }
            write.await();
            LOG.info("formatted Central pool {} on {} nodes: replication {}, {} slots of {} bytes per node, {} log"
                            + " entries per group", layout.poolId(), nodes.size(), layout.replication(),
                    layout.slotsPerNode(), layout.slotBytes(), layout.logEntries());
            return new Formatted(layout, initial);
        }
        if (blank > 0) {
            throw new IllegalStateException(blank + " of " + nodes.size() + " memory nodes are blank and the others hold"
                    + " a pool: a pool's nodes must be given all together, in their original order");
        }
        CentralLayout layout = null;
        Control best = null;
        for (int n : connected) {
            CentralLayout.Decoded d = CentralLayout.decode(headers[n], "memory node " + nodes.address(n));
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
            Control c = CentralLayout.decodeControl(headers[n]);
            if (c != null && (best == null || c.version() > best.version())) {
                best = c;
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
        // A format that crashed before any control copy was durable never allocated a slot.
        return new Formatted(layout, best != null ? best : new Control(0, 0, 0));
    }

    // ---------------------------------------------------------------- recovery

    /** Rebuilds index, free list and sequence from the replicas; returns how many slot copies it rewrote. */
    private int recover() {
        TrafficCounter traffic = new TrafficCounter();
        long highWater = control.highWater();
        long maxSeq = 0;
        int repaired = 0;
        Map<KeyBytes, Long> slotOfKey = new HashMap<>();
        List<Long> duplicates = new ArrayList<>();
        for (int g = 0; g < layout.groupCount(); g++) {
            Map<Long, Record> logged = new HashMap<>();
            for (Record r : readLogs(g, traffic)) {
                maxSeq = Math.max(maxSeq, r.seq());
                Record known = logged.get(r.slot());
                if (known == null || r.seq() > known.seq()) {
                    logged.put(r.slot(), r);
                }
            }
            long localSlots = Math.min(layout.localSlotsBelow(highWater), layout.slotsPerNode());
            int perChunk = (int) Math.max(1, Math.min(RECOVERY_CHUNK_SLOTS, RECOVERY_CHUNK_BYTES / layout.slotBytes()));
            for (long from = 0; from < localSlots; from += perChunk) {
                int count = (int) Math.min(perChunk, localSlots - from);
                Copies read = readSlots(g, from, count, traffic);
                List<Integer> replicas = read.replicas();
                byte[][] copies = read.bytes();
                RoundTrip fix = RoundTrip.on(traffic);
                Batch[] fixes = new Batch[replicas.size()];
                for (int i = 0; i < count; i++) {
                    long slot = (from + i) * layout.groupCount() + g;
                    if (slot >= highWater) {
                        break;
                    }
                    Record best = logged.get(slot);
                    Record[] found = new Record[replicas.size()];
                    for (int rep = 0; rep < replicas.size(); rep++) {
                        found[rep] = layout.decodeRecord(copies[rep], i * layout.slotBytes(), layout.slotBytes());
                        if (found[rep] != null && found[rep].slot() == slot) {
                            maxSeq = Math.max(maxSeq, found[rep].seq());
                            if (best == null || found[rep].seq() > best.seq()) {
                                best = found[rep];
                            }
                        }
                    }
                    if (best != null) {
                        byte[] bytes = CentralLayout.encodeRecord(best.state(), best.seq(), slot, best.key(), best.value());
                        for (int rep = 0; rep < replicas.size(); rep++) {
                            if (found[rep] == null || found[rep].seq() != best.seq() || found[rep].slot() != slot) {
                                int node = replicas.get(rep);
                                if (fixes[rep] == null) {
                                    fixes[rep] = new Batch(16);
                                }
                                fixes[rep].write(nodes.region(node), layout.slotOffsetOf(slot), bytes);
                                fixes[rep].flush(nodes.region(node), layout.slotOffsetOf(slot), bytes.length);
                                repaired++;
                            }
                        }
                    }
                    if (best != null && best.live()) {
                        KeyBytes key = new KeyBytes(best.key());
                        Long other = slotOfKey.get(key);
                        if (other != null) {
                            KeyState o = index.get(key);
                            if (o.seq > best.seq()) {
                                duplicates.add(slot);
                                continue;
                            }
                            duplicates.add(other);
                        }
                        slotOfKey.put(key, slot);
                        KeyState s = new KeyState(slot, best.seq(), best.value().length);
                        index.put(key, s);
                        ordered.put(key, s);
                    } else {
                        freeSlots.add(slot);
                    }
                }
                boolean any = false;
                for (int rep = 0; rep < replicas.size(); rep++) {
                    if (fixes[rep] != null) {
                        fix.post(nodes.connection(replicas.get(rep)), fixes[rep]);
                        any = true;
                    }
                }
                if (any) {
                    awaitRecoveryWrite(fix);
                }
            }
        }
        nextSeq.set(maxSeq + 1);
        nextSlot = highWater;
        for (long slot : duplicates) {
            // An older LIVE copy of a key that moved slots (deleted, then written again): free it durably.
            byte[] free = CentralLayout.encodeRecord(CentralLayout.FREE, nextSeq.getAndIncrement(), slot, EMPTY, EMPTY);
            writeGroup(layout.groupOf(slot), layout.slotOffsetOf(slot), free, traffic);
            freeSlots.add(slot);
            repaired++;
        }
        return repaired;
    }

    private void awaitRecoveryWrite(RoundTrip rt) {
        try {
            rt.await();
        } catch (FabricException e) {
            throw new StoreUnavailableException("recovery could not rewrite slots: " + e.getMessage(), e);
        }
    }

    /** Every valid log record on the group's replicas in service. */
    private List<Record> readLogs(int group, TrafficCounter traffic) {
        List<Record> out = new ArrayList<>();
        int perRead = Math.max(1, FabricLimits.MAX_TRANSFER_BYTES / layout.slotBytes());
        for (int from = 0; from < layout.logEntries(); from += perRead) {
            int count = Math.min(perRead, layout.logEntries() - from);
            Copies copies = readGroup(group, layout.logEntryOffset(from), count * layout.slotBytes(), traffic);
            for (byte[] bytes : copies.bytes()) {
                for (int i = 0; i < count; i++) {
                    Record rec = layout.decodeRecord(bytes, i * layout.slotBytes(), layout.slotBytes());
                    if (rec != null) {
                        out.add(rec);
                    }
                }
            }
        }
        return out;
    }

    /** What each replica in service holds in one range, in the order of {@code replicas}. */
    private record Copies(List<Integer> replicas, byte[][] bytes) {}

    private Copies readSlots(int group, long fromLocal, int count, TrafficCounter traffic) {
        return readGroup(group, layout.slotOffset() + fromLocal * layout.slotBytes(), count * layout.slotBytes(), traffic);
    }

    /**
     * READs one range from every replica in service of the group, in one round trip. Replicas that
     * do not answer are taken out and the read is repeated on the rest.
     */
    private Copies readGroup(int group, long offset, int length, TrafficCounter op) {
        while (true) {
            List<Integer> replicas = inService(group);
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> failed = new ArrayList<>();
            FabricException first = null;
            for (int n : replicas) {
                try {
                    Batch b = new Batch(1);
                    b.read(nodes.region(n), offset, length);
                    rt.post(nodes.connection(n), b);
                } catch (FabricException e) {
                    failed.add(n);
                    first = first == null ? e : first;
                }
            }
            if (failed.isEmpty()) {
                List<RoundTrip.Outcome> outcomes = rt.awaitEach();
                byte[][] bytes = new byte[replicas.size()][];
                for (int i = 0; i < outcomes.size(); i++) {
                    FabricException f = outcomes.get(i).failure();
                    if (f == null) {
                        bytes[i] = outcomes.get(i).result().bytes(0);
                    } else if (!PoolNodes.isUnreachable(f)) {
                        throw unavailable("read at offset " + offset + " on " + nodes.address(replicas.get(i)), f);
                    } else {
                        failed.add(replicas.get(i));
                        first = first == null ? f : first;
                    }
                }
                if (failed.isEmpty()) {
                    return new Copies(replicas, bytes);
                }
            } else {
                rt.awaitEach();
            }
            for (int n : failed) {
                nodeFailed(n, first, op);
            }
        }
    }

    // ---------------------------------------------------------------- the service

    @Override
    public Info info() {
        return new Info(layout.poolId(), layout.nodeCount(), layout.replication(), limits);
    }

    @Override
    public Read get(byte[] key) {
        TrafficCounter op = new TrafficCounter();
        byte[] value = get(key, op);
        return new Read(value, cost(op));
    }

    @Override
    public Cost put(byte[] key, byte[] value) {
        TrafficCounter op = new TrafficCounter();
        put(key, value, op);
        return cost(op);
    }

    @Override
    public Cost delete(byte[] key) {
        TrafficCounter op = new TrafficCounter();
        delete(key, op);
        return cost(op);
    }

    @Override
    public Written putIfAbsent(byte[] key, byte[] value) {
        TrafficCounter op = new TrafficCounter();
        boolean written = put(key, value, true, op);
        return new Written(written, cost(op));
    }

    private static Cost cost(TrafficCounter op) {
        return new Cost((int) Math.min(Integer.MAX_VALUE, op.roundTrips()), op.verbs(), op.bytes());
    }

    private ReentrantReadWriteLock lockOf(KeyBytes key) {
        return stripes[(key.hashCode() & 0x7fffffff) % LOCK_STRIPES];
    }

    private byte[] get(byte[] key, TrafficCounter op) {
        limits.checkKey(key);
        KeyBytes k = new KeyBytes(key);
        ReentrantReadWriteLock lock = lockOf(k);
        lock.readLock().lock();
        try {
            KeyState s = index.get(k);
            if (s == null) {
                return null;
            }
            if (!s.unsure) {
                return readValue(key, s, op);
            }
        } finally {
            lock.readLock().unlock();
        }
        lock.writeLock().lock();
        try {
            KeyState s = settled(k, op);
            return s == null ? null : readValue(key, s, op);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The key's state after repairing a half-done write, or null when the key is absent; under its write lock. */
    private KeyState settled(KeyBytes k, TrafficCounter op) {
        KeyState s = index.get(k);
        if (s != null && s.unsure) {
            s = repair(k, s, op);
        }
        return s;
    }

    /** READs the key's slot from the first replica in service that answers and holds what was acknowledged. */
    private byte[] readValue(byte[] key, KeyState s, TrafficCounter op) {
        int group = layout.groupOf(s.slot);
        int length = CentralLayout.recordBytes(key.length, s.valueLength);
        FabricException lastFailure = null;
        for (int attempt = 0; attempt < layout.replication() + 1; attempt++) {
            List<Integer> replicas = inService(group);
            for (int n : replicas) {
                RoundTrip rt = RoundTrip.on(op);
                BatchResult result;
                try {
                    Batch b = new Batch(1);
                    b.read(nodes.region(n), layout.slotOffsetOf(s.slot), length);
                    rt.post(nodes.connection(n), b);
                    result = rt.await().get(0);
                } catch (FabricException e) {
                    if (!PoolNodes.isUnreachable(e)) {
                        throw unavailable("read slot " + s.slot + " on " + nodes.address(n), e);
                    }
                    lastFailure = e;
                    nodeFailed(n, e, op);
                    break;
                }
                Record r = layout.decodeRecord(result.bytes(0), 0, length);
                if (r != null && r.live() && r.seq() == s.seq && r.slot() == s.slot && Arrays.equals(r.key(), key)) {
                    return r.value();
                }
                LOG.warn("slot {} on memory node {} does not hold the acknowledged record of sequence {} (found {});"
                        + " reading another replica", s.slot, nodes.address(n), s.seq, r);
            }
        }
        throw new StoreUnavailableException("no replica in service of group " + group + " returns the acknowledged value"
                + " of slot " + s.slot + (lastFailure == null ? "" : ": " + lastFailure.getMessage()), lastFailure);
    }

    private void put(byte[] key, byte[] value, TrafficCounter op) {
        put(key, value, false, op);
    }

    /**
     * False only when {@code onlyIfAbsent} and the key holds a value. The check and the write are
     * under the key's write lock, and the write is an ordinary logged PUT, so recovery needs nothing
     * new: a crash leaves the key absent or holding the value, as for any PUT.
     */
    private boolean put(byte[] key, byte[] value, boolean onlyIfAbsent, TrafficCounter op) {
        limits.checkKey(key);
        limits.checkValue(value);
        KeyBytes k = new KeyBytes(key.clone());
        ReentrantReadWriteLock lock = lockOf(k);
        lock.writeLock().lock();
        try {
            KeyState s = settled(k, op);
            if (s != null && onlyIfAbsent) {
                return false;
            }
            long slot = s != null ? s.slot : allocateSlot(op);
            long seq = nextSeq.getAndIncrement();
            byte[] record = CentralLayout.encodeRecord(CentralLayout.LIVE, seq, slot, k.bytes(), value);
            try {
                writeLogged(slot, record, op);
            } catch (HalfDone h) {
                // The key may or may not hold the new value now; its next operation settles that.
                KeyState u = s != null ? s : new KeyState(slot, seq, value.length);
                if (s == null) {
                    index.put(k, u);
                    ordered.put(k, u);
                }
                throw unsettle(k, u, h);
            } catch (RuntimeException e) {
                // Nothing was written (no free log entry): a new key's slot goes back.
                if (s == null) {
                    freeSlot(slot);
                }
                throw e;
            }
            if (s == null) {
                s = new KeyState(slot, seq, value.length);
                index.put(k, s);
                ordered.put(k, s);
            } else {
                s.valueLength = value.length;
                s.seq = seq;
            }
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void delete(byte[] key, TrafficCounter op) {
        limits.checkKey(key);
        KeyBytes k = new KeyBytes(key);
        ReentrantReadWriteLock lock = lockOf(k);
        lock.writeLock().lock();
        try {
            KeyState s = settled(k, op);
            if (s == null) {
                return;
            }
            long seq = nextSeq.getAndIncrement();
            byte[] record = CentralLayout.encodeRecord(CentralLayout.FREE, seq, s.slot, EMPTY, EMPTY);
            try {
                writeLogged(s.slot, record, op);
            } catch (HalfDone h) {
                throw unsettle(k, s, h);
            }
            index.remove(k);
            ordered.remove(k);
            freeSlot(s.slot);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A logged write that failed half-way; its log entry is still taken. */
    private static final class HalfDone extends Exception {
        final int entry;
        final StoreUnavailableException failure;

        HalfDone(int entry, long slot, RuntimeException cause) {
            super(null, null, false, false);
            this.entry = entry;
            this.failure = new StoreUnavailableException("the write of slot " + slot + " failed half-way and may or may"
                    + " not have taken effect: " + cause.getMessage(), cause);
        }
    }

    /** Marks the key unsure, holding the failed write's log entry, and has it settled in the background. */
    private StoreUnavailableException unsettle(KeyBytes k, KeyState s, HalfDone h) {
        s.unsure = true;
        s.heldEntry = h.entry;
        unsettled.add(k);
        scheduleSettle(SETTLE_DELAY_MILLIS);
        return h.failure;
    }

    private void scheduleSettle(long delayMillis) {
        if (closed) {
            return;
        }
        try {
            settler.schedule(this::settleInBackground, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Closed meanwhile: a restarted coordinator settles everything in recovery.
        }
    }

    /** Settles every unsure key it can; tries again later while some group does not answer. */
    private void settleInBackground() {
        boolean failed = false;
        for (KeyBytes k : unsettled) {
            if (closed) {
                return;
            }
            ReentrantReadWriteLock lock = lockOf(k);
            lock.writeLock().lock();
            try {
                settled(k, new TrafficCounter());
            } catch (RuntimeException e) {
                failed = true;
                LOG.debug("settling key {} after a failed write did not work yet", k, e);
            } finally {
                lock.writeLock().unlock();
            }
        }
        if (failed) {
            scheduleSettle(SETTLE_RETRY_MILLIS);
        }
    }

    /**
     * WRITEs the record into a log entry of the slot's group on every replica in service, then into
     * the slot: durable on both once this returns.
     */
    private void writeLogged(long slot, byte[] record, TrafficCounter op) throws HalfDone {
        int group = layout.groupOf(slot);
        int entry = takeLogEntry(group);
        try {
            writeGroup(group, layout.logEntryOffset(entry), record, op);
            writeGroup(group, layout.slotOffsetOf(slot), record, op);
        } catch (RuntimeException e) {
            // Some replica may hold part of it: settle before the key or the entry is used again.
            throw new HalfDone(entry, slot, e);
        }
        freeLogEntries.get(group).add(entry);
    }

    /**
     * Settles a slot whose last write failed half-way, as recovery would: of the log records naming
     * it and the slot's copies, the valid one of the highest sequence wins, and is written back to
     * every replica under a new sequence number, so that no older log record can ever override it.
     * Returns the key's state, or null when the key turned out absent.
     */
    private KeyState repair(KeyBytes k, KeyState s, TrafficCounter op) {
        int group = layout.groupOf(s.slot);
        Record best = null;
        for (Record r : readLogs(group, op)) {
            if (r.slot() == s.slot && (best == null || r.seq() > best.seq())) {
                best = r;
            }
        }
        for (byte[] copy : readSlots(group, s.slot / layout.groupCount(), 1, op).bytes()) {
            Record r = layout.decodeRecord(copy, 0, layout.slotBytes());
            if (r != null && r.slot() == s.slot && (best == null || r.seq() > best.seq())) {
                best = r;
            }
        }
        long seq = nextSeq.getAndIncrement();
        boolean live = best != null && best.live();
        if (live && !Arrays.equals(best.key(), k.bytes())) {
            throw new IllegalStateException("slot " + s.slot + " holds another key than " + k + " after a failed write");
        }
        byte[] settled = live ? CentralLayout.encodeRecord(CentralLayout.LIVE, seq, s.slot, best.key(), best.value())
                : CentralLayout.encodeRecord(CentralLayout.FREE, seq, s.slot, EMPTY, EMPTY);
        writeGroup(group, layout.slotOffsetOf(s.slot), settled, op);
        s.unsure = false;
        unsettled.remove(k);
        if (s.heldEntry >= 0) {
            freeLogEntries.get(group).add(s.heldEntry);
            s.heldEntry = -1;
        }
        if (live) {
            s.seq = seq;
            s.valueLength = best.value().length;
            return s;
        }
        index.remove(k);
        ordered.remove(k);
        freeSlot(s.slot);
        return null;
    }

    private int takeLogEntry(int group) {
        Integer entry;
        try {
            entry = freeLogEntries.get(group).poll(LOG_ENTRY_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting for a free redo-log entry", e);
        }
        if (entry == null) {
            throw new StoreUnavailableException("no redo-log entry of replica group " + group + " came free within "
                    + LOG_ENTRY_WAIT_SECONDS + " s: " + layout.logEntries() + " writes are in flight or failed half-way ("
                    + unsettled.size() + " keys wait to be settled until their group answers again)");
        }
        return entry;
    }

    /**
     * WRITEs and FLUSHes {@code bytes} at {@code offset} on every replica in service of the group, in
     * one round trip. Replicas that do not answer are taken out (and the write stands on the rest);
     * when none is left the write fails with {@link StoreUnavailableException}.
     */
    private void writeGroup(int group, long offset, byte[] bytes, TrafficCounter op) {
        while (true) {
            List<Integer> replicas = inService(group);
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> posted = new ArrayList<>(replicas.size());
            List<Integer> failed = new ArrayList<>();
            FabricException first = null;
            for (int n : replicas) {
                try {
                    Batch b = new Batch(2);
                    b.write(nodes.region(n), offset, bytes);
                    b.flush(nodes.region(n), offset, bytes.length);
                    rt.post(nodes.connection(n), b);
                    posted.add(n);
                } catch (FabricException e) {
                    failed.add(n);
                    first = first == null ? e : first;
                }
            }
            List<RoundTrip.Outcome> outcomes = rt.awaitEach();
            int succeeded = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                FabricException f = outcomes.get(i).failure();
                if (f == null) {
                    succeeded++;
                } else if (!PoolNodes.isUnreachable(f)) {
                    throw unavailable("write at offset " + offset + " on " + nodes.address(posted.get(i)), f);
                } else {
                    failed.add(posted.get(i));
                    first = first == null ? f : first;
                }
            }
            if (failed.isEmpty()) {
                return;
            }
            boolean allOut = true;
            for (int n : failed) {
                nodeFailed(n, first, op);
                allOut &= control.isOut(n);
            }
            if (allOut && succeeded > 0) {
                return;
            }
        }
    }

    private static StoreUnavailableException unavailable(String what, FabricException e) {
        return new StoreUnavailableException("the coordinator could not " + what + ": " + e.getMessage(), e);
    }

    // ---------------------------------------------------------------- scans

    @Override
    public Page scan(byte[] prefix, byte[] after, int limit) {
        limits.checkPrefix(prefix);
        if (after != null) {
            limits.checkKey(after);
        }
        if (limit < 1 || limit > MAX_SCAN_LIMIT) {
            throw new IllegalArgumentException("limit=" + limit + " is outside 1..MAX_SCAN_LIMIT=" + MAX_SCAN_LIMIT);
        }
        TrafficCounter op = new TrafficCounter();
        KeyBytes start = new KeyBytes(prefix);
        NavigableMap<KeyBytes, KeyState> tail = after != null && new KeyBytes(after).compareTo(start) >= 0
                ? ordered.tailMap(new KeyBytes(after), false) : ordered.tailMap(start, true);
        List<KeyBytes> keys = new ArrayList<>();
        List<KeyState> states = new ArrayList<>();
        long bytes = 0;
        boolean more = false;
        Iterator<Map.Entry<KeyBytes, KeyState>> it = tail.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<KeyBytes, KeyState> e = it.next();
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            if (keys.size() == limit || (!keys.isEmpty() && bytes + layout.slotBytes() > SCAN_PAGE_BYTES)) {
                more = true;
                break;
            }
            keys.add(e.getKey());
            states.add(e.getValue());
            bytes += layout.slotBytes();
        }
        List<KvEntry> entries = new ArrayList<>(keys.size());
        byte[][] values = readUnlocked(keys, states, op);
        for (int i = 0; i < keys.size(); i++) {
            byte[] v = values[i] != null ? values[i] : get(keys.get(i).bytes(), op);
            if (v != null) {
                entries.add(new KvEntry(keys.get(i).bytes().clone(), v));
            }
        }
        return new Page(entries, more, cost(op));
    }

    /**
     * READs the slots of a scan page from their primaries in one round trip, without locks; an entry
     * whose record does not match what the index said (written, moved or unsure meanwhile) is null,
     * and the caller reads it again under its lock.
     */
    private byte[][] readUnlocked(List<KeyBytes> keys, List<KeyState> states, TrafficCounter op) {
        byte[][] values = new byte[keys.size()][];
        if (keys.isEmpty()) {
            return values;
        }
        long[] seqs = new long[keys.size()];
        int[] lengths = new int[keys.size()];
        Map<Integer, Batch> batches = new HashMap<>();
        int[] nodeOf = new int[keys.size()];
        int[] indexInBatch = new int[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            KeyState s = states.get(i);
            seqs[i] = s.seq;
            lengths[i] = CentralLayout.recordBytes(keys.get(i).bytes().length, s.valueLength);
            nodeOf[i] = -1;
            if (s.unsure) {
                continue;
            }
            List<Integer> replicas = inService(layout.groupOf(s.slot));
            int n = replicas.get(0);
            try {
                Batch b = batches.computeIfAbsent(n, x -> new Batch(16));
                indexInBatch[i] = b.read(nodes.region(n), layout.slotOffsetOf(s.slot), lengths[i]);
                nodeOf[i] = n;
            } catch (FabricException e) {
                nodeOf[i] = -1;
            }
        }
        RoundTrip rt = RoundTrip.on(op);
        List<Integer> postedNodes = new ArrayList<>();
        for (Map.Entry<Integer, Batch> e : batches.entrySet()) {
            try {
                rt.post(nodes.connection(e.getKey()), e.getValue());
                postedNodes.add(e.getKey());
            } catch (FabricException gone) {
                // Read under the lock instead, which handles the node.
            }
        }
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        Map<Integer, BatchResult> results = new HashMap<>();
        for (int i = 0; i < outcomes.size(); i++) {
            if (outcomes.get(i).succeeded()) {
                results.put(postedNodes.get(i), outcomes.get(i).result());
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            BatchResult r = nodeOf[i] < 0 ? null : results.get(nodeOf[i]);
            if (r == null) {
                continue;
            }
            Record rec = layout.decodeRecord(r.bytes(indexInBatch[i]), 0, lengths[i]);
            KeyState s = states.get(i);
            if (rec != null && rec.live() && rec.seq() == seqs[i] && rec.slot() == s.slot
                    && Arrays.equals(rec.key(), keys.get(i).bytes())) {
                values[i] = rec.value();
            }
        }
        return values;
    }

    // ---------------------------------------------------------------- space

    private long allocateSlot(TrafficCounter op) {
        synchronized (allocationLock) {
            Long free = freeSlots.poll();
            if (free != null) {
                return free;
            }
            if (nextSlot >= layout.totalSlots()) {
                throw new SpaceExhaustedException("no free slot: all " + layout.totalSlots() + " slots of pool "
                        + layout.poolId() + " hold keys; delete keys or give the pool larger memory nodes");
            }
            synchronized (controlLock) {
                Control c = control;
                if (nextSlot >= c.highWater()) {
                    long raised = Math.min(layout.totalSlots(), nextSlot + HIGH_WATER_STEP);
                    writeControl(new Control(c.version() + 1, c.outMask(), raised), op);
                }
            }
            return nextSlot++;
        }
    }

    private void freeSlot(long slot) {
        synchronized (allocationLock) {
            freeSlots.add(slot);
        }
    }

    // ---------------------------------------------------------------- membership

    /** The group's nodes in service, primary first. */
    private List<Integer> inService(int group) {
        Control c = control;
        List<Integer> in = new ArrayList<>(layout.replication());
        for (int n = group * layout.replication(); n < (group + 1) * layout.replication(); n++) {
            if (!c.isOut(n)) {
                in.add(n);
            }
        }
        return in;
    }

    @Override
    public Membership membership() {
        Control c = control;
        List<Integer> out = new ArrayList<>();
        for (int n = 0; n < layout.nodeCount(); n++) {
            if (c.isOut(n)) {
                out.add(n);
            }
        }
        return new Membership(c.version(), out);
    }

    /**
     * A node did not answer a verb: if it does not answer a fresh connection either, it is taken out
     * of service for good, durably, unless it is its group's last one (then the caller gets a
     * {@link StoreUnavailableException}).
     */
    private void nodeFailed(int node, FabricException cause, TrafficCounter op) {
        synchronized (controlLock) {
            if (control.isOut(node)) {
                return;
            }
            if (answers(node, cause)) {
                return;
            }
            takeOut(node, cause, op);
        }
    }

    /**
     * Whether the node answers: on its current connection (another thread may have replaced the one
     * that failed already, and a healthy connection is never torn down under other requests), else on
     * a new one that must reach the same node of this pool.
     */
    private boolean answers(int node, FabricException cause) {
        try {
            nodes.connection(node).read(nodes.region(node), 0, CentralLayout.SUPERBLOCK_BYTES);
            return true;
        } catch (FabricException broken) {
            if (!PoolNodes.isUnreachable(broken)) {
                return false;
            }
        }
        try {
            nodes.reconnect(node);
            CentralLayout.Decoded d = CentralLayout.decode(nodes.connection(node).read(nodes.region(node), 0,
                    CentralLayout.SUPERBLOCK_BYTES), "memory node " + nodes.address(node));
            boolean same = d.nodeIndex() == node && d.layout().equals(layout);
            if (same) {
                LOG.warn("memory node {} failed a request ({}) but answers a new connection; it stays in service",
                        nodes.address(node), cause == null ? "no reason given" : cause.getMessage());
            }
            return same;
        } catch (RuntimeException gone) {
            return false;
        }
    }

    private void takeOut(int node, Throwable cause, TrafficCounter op) {
        int group = node / layout.replication();
        if (inService(group).size() == 1) {
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " does not answer and is the last"
                    + " node in service of replica group " + group + ": its keys are unavailable until it returns", cause);
        }
        Control c = control;
        writeControl(new Control(c.version() + 1, c.outMask() | (1L << node), c.highWater()), op);
        LOG.warn("memory node {} (node {} of group {}) does not answer: taken out of service for good; its group goes"
                + " on with {} of {} replicas", nodes.address(node), node, group, inService(group).size(),
                layout.replication());
    }

    /**
     * Makes {@code next} durable on every node it keeps in service, in one round trip, and only then
     * the coordinator's control. A node that does not answer is added to the out set, and the write
     * retried, unless it is its group's last.
     */
    private void writeControl(Control next, TrafficCounter op) {
        while (true) {
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> posted = new ArrayList<>();
            long failedMask = 0;
            FabricException first = null;
            byte[] bytes = CentralLayout.encodeControl(next);
            long offset = CentralLayout.controlOffset(next.version());
            for (int n = 0; n < layout.nodeCount(); n++) {
                if (next.isOut(n)) {
                    continue;
                }
                try {
                    Batch b = new Batch(2);
                    b.write(nodes.region(n), offset, bytes);
                    b.flush(nodes.region(n), offset, bytes.length);
                    rt.post(nodes.connection(n), b);
                    posted.add(n);
                } catch (FabricException e) {
                    failedMask |= 1L << n;
                    first = first == null ? e : first;
                }
            }
            List<RoundTrip.Outcome> outcomes = rt.awaitEach();
            for (int i = 0; i < outcomes.size(); i++) {
                FabricException f = outcomes.get(i).failure();
                if (f != null) {
                    if (!PoolNodes.isUnreachable(f)) {
                        throw unavailable("write the control block on " + nodes.address(posted.get(i)), f);
                    }
                    failedMask |= 1L << posted.get(i);
                    first = first == null ? f : first;
                }
            }
            if (failedMask == 0) {
                control = next;
                for (int n = 0; n < layout.nodeCount(); n++) {
                    if (next.isOut(n) && nodes.isConnected(n)) {
                        nodes.disconnect(n);
                    }
                }
                return;
            }
            long out = next.outMask() | failedMask;
            for (int g = 0; g < layout.groupCount(); g++) {
                boolean anyLeft = false;
                for (int n = g * layout.replication(); n < (g + 1) * layout.replication(); n++) {
                    anyLeft |= (out & (1L << n)) == 0;
                }
                if (!anyLeft) {
                    throw new StoreUnavailableException("no memory node of replica group " + g + " answers: the"
                            + " coordinator cannot record its membership" + (first == null ? "" : " (" + first.getMessage()
                            + ")"), first);
                }
            }
            next = new Control(next.version() + 1, out, next.highWater());
        }
    }

    // ---------------------------------------------------------------- introspection

    /** Keys in the index. */
    public int keyCount() {
        return index.size();
    }

    /** How long opening the pool took, recovery included. */
    public long recoveryMillis() {
        return recoveryMillis;
    }

    /** Slot copies recovery rewrote because they were torn, stale or missing. */
    public int repairedSlots() {
        return repairedSlots;
    }

    /** The pool's id, stamped in every node's superblock. */
    public UUID poolId() {
        return layout.poolId();
    }

    /** Keys whose last write failed half-way and that are not settled yet. */
    public int unsettledKeys() {
        return unsettled.size();
    }

    @Override
    public void close() {
        closed = true;
        settler.shutdownNow();
        nodes.close();
    }

    @Override
    public String toString() {
        return "Coordinator[pool=" + layout.poolId() + ", nodes=" + layout.nodeCount() + ", R=" + layout.replication()
                + ", keys=" + index.size() + "]";
    }
}
