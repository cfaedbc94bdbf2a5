package org.pdpm.core.direct;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.direct.DirectLayout.Record;
import org.pdpm.core.direct.DirectLayout.RecordLayout;
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
 * A pDPM-Direct client: the compute node does everything, the memory nodes are passive. A key
 * hashes to a replica group and a home slot; it lives in the first slot of its probe window that
 * holds it ({@value #MAX_PROBE} slots from home). A slot is {@code [lock | record]} on every
 * replica of its group, and has a redo-log record beside it.
 *
 * <ul>
 *   <li><b>GET</b> (1 round trip): READ {@code [lock | record]} from the group's primary; retry
 *       while it is locked or fails its checksum.</li>
 *   <li><b>PUT</b> of a key whose slot is known (4): CAS the lock on every replica (with a READ of
 *       the primary's record in the same batch); WRITE the log ×R; WRITE the slot ×R; unlock.</li>
 *   <li>Creating or deleting a key also takes the pool's index lock and changes the ordered key
 *       index ({@link KeyIndex}) — before the data on creation, after it on deletion, so a key
 *       with a value is always in the index.</li>
 * </ul>
 * A lock word carries its owner and an acquisition number. A waiter that sees the same word for a
 * whole lease takes the lock over and repairs: of the slot records and log records on the
 * replicas it keeps the newest whole one (highest seq) and writes it to every replica. So a writer
 * that dies leaves its key with its old value or its new one, and delays others by one lease.
 *
 * <p>Membership (which nodes are out) is kept by a majority of the memory nodes ({@link Membership}).
 */
public final class DirectStore implements ConditionalKvStore {

    private static final Logger LOG = LoggerFactory.getLogger(DirectStore.class);

    /** Slots searched from a key's home slot. */
    static final int MAX_PROBE = 32;
    private static final int SCAN_PAGE = 128;
    /** Reads of an unlocked slot that fails its checksum before the reader repairs it under the lock. */
    private static final int MAX_TORN_READS = 8;
    /** Longest a lock is waited for while live owners keep it busy. */
    private static final long LOCK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Renews every client's membership view; a closed client's task leaves the queue at once. */
    private static final ScheduledThreadPoolExecutor REFRESHER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "pdpm-direct-membership");
        t.setDaemon(true);
        return t;
    });

    static {
        REFRESHER.setRemoveOnCancelPolicy(true);
    }

    private final PoolNodes nodes;
    private final DirectLayout layout;
    private final KvLimits limits;
    private final Membership membership;
    private final KeyIndex index;
    private final IndexReplicas indexReplicas;
    private final LongSupplier clock;
    private final long leaseNanos;
    private final long membershipLeaseNanos;
    private final long clientId;
    private final AtomicLong lockCounter = new AtomicLong();
    private final Object viewLock = new Object();
    private volatile Membership.View view;
    private volatile long viewCheckedNanos;
    private final ConcurrentHashMap<DirectKey, Long> slots = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> refresh;
    private volatile boolean closed;

    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final TrafficCounter getTraffic = new TrafficCounter();
    private final TrafficCounter putTraffic = new TrafficCounter();
    private final TrafficCounter deleteTraffic = new TrafficCounter();
    private final TrafficCounter upkeepTraffic = new TrafficCounter();

    private DirectStore(PoolNodes nodes, DirectLayout layout, LongSupplier clock) {
        this.nodes = nodes;
        this.layout = layout;
        this.limits = new KvLimits(layout.maxKeyBytes(), layout.maxValueBytes());
        this.clock = clock;
        this.leaseNanos = TimeUnit.MILLISECONDS.toNanos(layout.leaseMillis());
        this.membershipLeaseNanos = TimeUnit.MILLISECONDS.toNanos(layout.membershipLeaseMillis());
        SecureRandom random = new SecureRandom();
        this.clientId = 1 + random.nextInt(Integer.MAX_VALUE - 1);
        this.membership = new Membership(nodes, layout.nodeCount(), upkeepTraffic);
        this.indexReplicas = new IndexReplicas();
        this.index = new KeyIndex(layout, indexReplicas);
        adopt(membership.read());
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), membershipLeaseNanos / 4);
        this.refresh = REFRESHER.scheduleWithFixedDelay(this::refreshQuietly, period, period, TimeUnit.NANOSECONDS);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Opens a client on a pool of memory nodes, formatting the pool first when every node is blank
     * (one client wins the format; the others wait for it and open). Settings other than the fabric
     * and the nodes only matter to a format; opening an existing pool checks the ones given.
     */
    public static final class Builder {
        private Fabric fabric;
        private List<NodeAddress> memoryNodes;
        private int replication;
        private KvLimits limits;
        private long slotsPerGroup;
        private Duration lease = Duration.ofSeconds(2);
        private Duration membershipLease = Duration.ofSeconds(1);
        private LongSupplier clock = System::nanoTime;

        public Builder fabric(Fabric fabric) {
            this.fabric = fabric;
            return this;
        }

        /** The pool's memory nodes, in pool order (replica group g is nodes g·R … g·R+R−1). */
        public Builder memoryNodes(List<NodeAddress> memoryNodes) {
            this.memoryNodes = List.copyOf(memoryNodes);
            return this;
        }

        /** Copies of each value, 1..3; 1 when formatting without one. Must match an existing pool. */
        public Builder replication(int replication) {
            if (replication < 1 || replication > 3) {
                throw new IllegalArgumentException("replication=" + replication + " must be 1..3");
            }
            this.replication = replication;
            return this;
        }

        /** Key and value bounds of a new pool (1 KiB keys, 4 KiB values by default); an existing pool's must match. */
        public Builder limits(KvLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** Slots per replica group of a new pool; by default as many as the regions hold. */
        public Builder slotsPerGroup(long slotsPerGroup) {
            if (slotsPerGroup < IndexLayout.MIN_SLOTS) {
                throw new IllegalArgumentException("slotsPerGroup=" + slotsPerGroup + " must be at least "
                        + IndexLayout.MIN_SLOTS);
            }
            this.slotsPerGroup = slotsPerGroup;
            return this;
        }

        /** How long a lock may be held before a waiter takes it over (a new pool's setting; 2 s by default). */
        public Builder lease(Duration lease) {
            this.lease = positive("lease", lease);
            return this;
        }

        /** How long a client trusts its membership view without re-reading it (a new pool's setting; 1 s by default). */
        public Builder membershipLease(Duration membershipLease) {
            this.membershipLease = positive("membershipLease", membershipLease);
            return this;
        }

        /** The clock leases are measured with; {@link System#nanoTime} by default. */
        public Builder clock(LongSupplier nanoClock) {
            this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
            return this;
        }

        private static Duration positive(String name, Duration d) {
            if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + "=" + d + " must be positive and below 2^31 ms");
            }
            return d;
        }

        public DirectStore open() {
            Objects.requireNonNull(fabric, "fabric");
            Objects.requireNonNull(memoryNodes, "memoryNodes");
            if (memoryNodes.isEmpty() || memoryNodes.size() > DirectLayout.MAX_NODES) {
                throw new IllegalArgumentException("memoryNodes has " + memoryNodes.size() + " nodes; a pool has 1.."
                        + DirectLayout.MAX_NODES);
            }
            PoolNodes nodes = PoolNodes.connect(fabric, memoryNodes, n -> false, true);
            try {
                DirectLayout layout = PoolFormat.openOrFormat(nodes, this::plan, clock,
                        TimeUnit.MILLISECONDS.toNanos(Math.max(5 * lease.toMillis(), 10_000)));
                if (replication != 0 && replication != layout.replication()) {
                    throw new IllegalArgumentException("replication=" + replication + " differs from the pool's replication="
                            + layout.replication());
                }
                if (limits != null && (limits.maxKeyBytes() != layout.maxKeyBytes()
                        || limits.maxValueBytes() != layout.maxValueBytes())) {
                    throw new IllegalArgumentException("limits " + limits + " differ from the pool's maxKeyBytes="
                            + layout.maxKeyBytes() + " maxValueBytes=" + layout.maxValueBytes());
                }
                return new DirectStore(nodes, layout, clock);
            } catch (RuntimeException e) {
                nodes.close();
                throw e;
            }
        }

        private DirectLayout plan(long regionBytes) {
            KvLimits l = limits != null ? limits : new KvLimits(1024, 4096);
            int r = replication != 0 ? replication : 1;
            if (memoryNodes.size() % r != 0) {
                throw new IllegalArgumentException("memoryNodes has " + memoryNodes.size()
                        + " nodes, not a multiple of replication=" + r);
            }
            return DirectLayout.plan(memoryNodes.size(), r, regionBytes, l.maxKeyBytes(), l.maxValueBytes(),
                    slotsPerGroup, (int) lease.toMillis(), (int) membershipLease.toMillis());
        }
    }

    /**
     * The region each memory node needs for a pool of {@code slotsPerGroup} slots per replica group
     * (hold the keys at no more than half of that), for deployments that size their nodes.
     */
    public static long regionBytesFor(int nodeCount, int replication, KvLimits limits, long slotsPerGroup) {
        if (replication < 1 || nodeCount < replication || nodeCount % replication != 0) {
            throw new IllegalArgumentException("nodeCount=" + nodeCount + " must be a positive multiple of replication="
                    + replication);
        }
        long groups = nodeCount / replication;
        long indexEnd = DirectLayout.INDEX_NODES_OFFSET
                + (slotsPerGroup * groups + 1) * IndexLayout.nodeBytes(limits.maxKeyBytes());
        long slotsStart = (indexEnd + 63) / 64 * 64;
        long end = slotsStart + 2 * slotsPerGroup * DirectLayout.slotBytes(limits.maxKeyBytes(), limits.maxValueBytes());
        return (end + 4095) / 4096 * 4096;
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    /** Replication R of the pool. */
    public int replication() {
        return layout.replication();
    }

    /** The memory nodes this client (and a majority of the pool) consider out of service. */
    public List<Integer> outNodes() {
        return view.outNodes();
    }

    /** Round trips, verbs and bytes spent keeping the membership view fresh (not on any operation's path). */
    public TrafficCounter.Snapshot upkeep() {
        return upkeepTraffic.snapshot();
    }

    // ---------------------------------------------------------------- keys and placement

    /** A key with its placement, for the slot cache. */
    private final class DirectKey {
        final byte[] bytes;
        final int group;
        final long home;
        private final int hash;

        DirectKey(byte[] key) {
            this.bytes = key;
            long h = hash64(key);
            this.group = (int) Long.remainderUnsigned(h, layout.groups());
            this.home = Long.remainderUnsigned(mix(h ^ 0x9E3779B97F4A7C15L), layout.slotsPerGroup());
            this.hash = (int) (h ^ (h >>> 32));
        }

        long probe(int i) {
            return (home + i) % layout.slotsPerGroup();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DirectKey k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** FNV-1a then a SplitMix64 finish: the same on every client, whatever its JVM. */
    static long hash64(byte[] key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A key's level in the skip list: geometric with p = 1/4, drawn from its hash so every run is the same. */
    private static int level(DirectKey k) {
        long bits = mix(hash64(k.bytes) + 0x632BE59BD9B4E019L);
        int level = 1;
        while (level < IndexLayout.MAX_LEVEL && (bits & 3) == 0) {
            level++;
            bits >>>= 2;
        }
        return level;
    }

    private static long slotRef(int group, long slot) {
        return ((long) group << 40) | slot;
    }

    // ---------------------------------------------------------------- GET

    @Override
    public byte[] get(byte[] key) {
        checkOpen();
        limits.checkKey(key);
        TrafficCounter op = new TrafficCounter();
        try {
            Record r = find(new DirectKey(key.clone()), op);
            return r == null ? null : r.value();
        } finally {
            gets.increment();
            getTraffic.add(op);
        }
    }

    /** The key's live record (caching its slot), or null when it has none. */
    private Record find(DirectKey k, TrafficCounter op) {
        Found f = locate(k, op);
        return f == null ? null : f.record();
    }

    /** Where a key lives and what its slot held when read. */
    private record Found(long slot, Record record) {}

    /** The key's slot and live record (caching the slot), or null when it has none. */
    private Found locate(DirectKey k, TrafficCounter op) {
        ensureFreshView();
        Long cached = slots.get(k);
        if (cached != null) {
            Record r = readSlot(k.group, cached, k.bytes, op);
            if (r.holds(k.bytes)) {
                return new Found(cached, r);
            }
            slots.remove(k, cached);
        }
        for (int i = 0; i < MAX_PROBE; i++) {
            long slot = k.probe(i);
            Record r = readSlot(k.group, slot, k.bytes, op);
            if (r.holds(k.bytes)) {
                slots.put(k, slot);
                return new Found(slot, r);
            }
            if (r == Record.NEVER_USED) {
                return null;
            }
        }
        return null;
    }

    /**
     * The slot's record as the group's primary holds it, once it is unlocked and whole. A slot
     * locked by a writer is read again; one locked by the same word for a whole lease is taken over
     * and repaired. A slot locked while it holds another live key is answered at once: whatever the
     * writer does, it will not hold {@code wanted}.
     */
    private Record readSlot(int group, long slot, byte[] wanted, TrafficCounter op) {
        long seenWord = 0;
        long seenSince = 0;
        int torn = 0;
        for (int attempt = 0; ; attempt++) {
            int primary = primary(group);
            Batch b = new Batch(1);
            byte[] bytes;
            try {
                b.read(nodes.region(primary), layout.slotOffset(slot), layout.slotBytes());
                RoundTrip rt = RoundTrip.on(op);
                rt.post(nodes.connection(primary), b);
                bytes = rt.await().get(0).bytes(0);
            } catch (FabricException failed) {
                lost(primary, failed);
                continue;
            }
            long lock = (long) DirectLayout.LONG.get(bytes, 0);
            Record r = RecordLayout.decode(bytes, 8, layout.maxKeyBytes(), layout.maxValueBytes());
            if (r != null && (lock == 0 || (r.live() && !Arrays.equals(r.key(), wanted)))) {
                return r;
            }
            if (lock == 0) {
                if (++torn >= MAX_TORN_READS) {
                    Held held = acquire(group, layout.slotOffset(slot), 0, 0, 0, op);
                    try {
                        repair(group, slot, op);
                    } finally {
                        release(op, held);
                    }
                    torn = 0;
                }
                continue;
            }
            long now = clock.getAsLong();
            if (lock != seenWord) {
                seenWord = lock;
                seenSince = now;
            } else if (now - seenSince >= leaseNanos) {
                Held held = acquire(group, layout.slotOffset(slot), 0, seenWord, seenSince, op);
                try {
                    if (held.tookOver) {
                        repair(group, slot, op);
                    }
                } finally {
                    release(op, held);
                }
                seenWord = 0;
                continue;
            }
            backoff(attempt);
        }
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        checkOpen();
        for (byte[] k : keys) {
            limits.checkKey(k);
        }
        ensureFreshView();
        TrafficCounter op = new TrafficCounter();
        List<byte[]> out = new ArrayList<>(keys.size());
        try {
            // Keys whose slot is cached: one READ each, all in one round trip.
            DirectKey[] ks = new DirectKey[keys.size()];
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> posted = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                ks[i] = new DirectKey(keys.get(i).clone());
                out.add(null);
                Long slot = slots.get(ks[i]);
                if (slot != null) {
                    try {
                        int primary = primary(ks[i].group);
                        Batch b = new Batch(1);
                        b.read(nodes.region(primary), layout.slotOffset(slot), layout.slotBytes());
                        rt.post(nodes.connection(primary), b);
                        posted.add(i);
                    } catch (FabricException notConnected) {
                        // read below, one by one, where failures are handled
                    }
                }
            }
            boolean[] done = new boolean[keys.size()];
            if (!posted.isEmpty()) {
                List<RoundTrip.Outcome> results = rt.awaitEach();
                for (int j = 0; j < posted.size(); j++) {
                    int i = posted.get(j);
                    if (!results.get(j).succeeded()) {
                        continue;
                    }
                    byte[] bytes = results.get(j).result().bytes(0);
                    Record r = RecordLayout.decode(bytes, 8, layout.maxKeyBytes(), layout.maxValueBytes());
                    if ((long) DirectLayout.LONG.get(bytes, 0) == 0 && r != null && r.holds(ks[i].bytes)) {
                        out.set(i, r.value());
                        done[i] = true;
                    }
                }
            }
            for (int i = 0; i < keys.size(); i++) {
                if (!done[i]) {
                    Record r = find(ks[i], op);
                    out.set(i, r == null ? null : r.value());
                }
            }
            return out;
        } finally {
            gets.add(keys.size());
            getTraffic.add(op);
        }
    }

    // ---------------------------------------------------------------- PUT / DELETE

    @Override
    public void put(byte[] key, byte[] value) {
        checkOpen();
        limits.checkKey(key);
        limits.checkValue(value);
        TrafficCounter op = new TrafficCounter();
        try {
            write(new DirectKey(key.clone()), value.clone(), false, op);
        } finally {
            puts.increment();
            putTraffic.add(op);
        }
    }

    /**
     * Writes only when the key is absent: the check reads the slot under its lock (or, for a new
     * key, under the index lock that serializes creations), so it is linearizable. Costs what a PUT
     * costs when it writes, and a lock round trip pair when the key is present.
     */
    @Override
    public boolean putIfAbsent(byte[] key, byte[] value) {
        checkOpen();
        limits.checkKey(key);
        limits.checkValue(value);
        TrafficCounter op = new TrafficCounter();
        try {
            return write(new DirectKey(key.clone()), value.clone(), true, op);
        } finally {
            puts.increment();
            putTraffic.add(op);
        }
    }

    @Override
    public void delete(byte[] key) {
        checkOpen();
        limits.checkKey(key);
        TrafficCounter op = new TrafficCounter();
        try {
            remove(new DirectKey(key.clone()), op);
        } finally {
            deletes.increment();
            deleteTraffic.add(op);
        }
    }

    @Override
    public void putAll(List<KvEntry> entries) {
        checkOpen();
        for (KvEntry e : entries) {
            limits.checkKey(e.key());
            if (e.value() != null) {
                limits.checkValue(e.value());
            }
        }
        for (KvEntry e : entries) {
            if (e.value() == null) {
                delete(e.key());
            } else {
                put(e.key(), e.value());
            }
        }
    }

    /** False only when {@code onlyIfAbsent} and the key holds a value. */
    private boolean write(DirectKey k, byte[] value, boolean onlyIfAbsent, TrafficCounter op) {
        ensureFreshView();
        for (int attempt = 0; attempt < 64; attempt++) {
            Long slot = slots.get(k);
            if (slot == null) {
                Found f = locate(k, op);
                slot = f == null ? null : f.slot();
            }
            if (slot == null) {
                return create(k, value, onlyIfAbsent, op);
            }
            Overwrite outcome = overwrite(k, slot, value, onlyIfAbsent, op);
            if (outcome != Overwrite.MOVED) {
                return outcome == Overwrite.WRITTEN;
            }
            slots.remove(k, slot);
        }
        throw new StoreUnavailableException("the slot of a key kept moving under 64 writes");
    }

    private enum Overwrite { WRITTEN, PRESENT, MOVED }

    /**
     * Writes {@code value} into the key's slot under its lock; MOVED when the slot no longer holds
     * the key, PRESENT (nothing written) when {@code onlyIfAbsent} and it does.
     */
    private Overwrite overwrite(DirectKey k, long slot, byte[] value, boolean onlyIfAbsent, TrafficCounter op) {
        Held held = acquire(k.group, layout.slotOffset(slot), layout.slotBytes(), 0, 0, op);
        Record r = current(k.group, slot, held, op);
        if (!r.holds(k.bytes)) {
            release(op, held);
            return Overwrite.MOVED;
        }
        if (onlyIfAbsent) {
            release(op, held);
            return Overwrite.PRESENT;
        }
        commit(k.group, slot, RecordLayout.encode(r.seq() + 1, RecordLayout.LIVE, k.bytes, value), held, null, op);
        return Overwrite.WRITTEN;
    }

    /** The slot's record under its lock: read with the lock, or repaired after a takeover or a torn read. */
    private Record current(int group, long slot, Held held, TrafficCounter op) {
        Record r = held.tookOver || held.primaryRead == null ? null
                : RecordLayout.decode(held.primaryRead, 8, layout.maxKeyBytes(), layout.maxValueBytes());
        return r != null ? r : repair(group, slot, op);
    }

    /**
     * Creates the key under the index lock: index first, then the data. When waiting for a slot (a
     * dead writer's lock, say) used up most of the index lock's lease, the index lock is let go
     * before the index is touched and taken again.
     */
    private boolean create(DirectKey k, byte[] value, boolean onlyIfAbsent, TrafficCounter op) {
        for (int round = 0; round < 8; round++) {
            Held indexLock = acquireIndex(op);
            Created outcome;
            try {
                outcome = createUnder(indexLock, k, value, onlyIfAbsent, op);
            } catch (RuntimeException e) {
                release(op, indexLock);
                throw e;
            }
            if (outcome != Created.INDEX_LOCK_RELEASED) {
                release(op, indexLock);
            }
            if (outcome != Created.RETRY) {
                return outcome != Created.PRESENT;
            }
        }
        throw new StoreUnavailableException("creating a key kept outlasting the index lock's lease");
    }

    private enum Created { INDEX_LOCK_RELEASED, OVERWRITTEN, PRESENT, RETRY }

    /**
     * RETRY when the index lock's lease ran short before anything was written; PRESENT when
     * {@code onlyIfAbsent} and another writer created the key first.
     */
    private Created createUnder(Held indexLock, DirectKey k, byte[] value, boolean onlyIfAbsent, TrafficCounter op) {
        for (int attempt = 0; attempt < 64; attempt++) {
            long free = -1;
            long existing = -1;
            for (int i = 0; i < MAX_PROBE; i++) {
                long slot = k.probe(i);
                Record r = readSlot(k.group, slot, k.bytes, op);
                if (r.holds(k.bytes)) {
                    existing = slot;
                    break;
                }
                if (r.reusable() && free < 0) {
                    free = slot;
                }
                if (r == Record.NEVER_USED) {
                    break;
                }
            }
            if (existing >= 0) {
                Overwrite outcome = overwrite(k, existing, value, onlyIfAbsent, op);
                if (outcome != Overwrite.MOVED) {
                    slots.put(k, existing);
                    return outcome == Overwrite.WRITTEN ? Created.OVERWRITTEN : Created.PRESENT;
                }
                continue;
            }
            if (free < 0) {
                throw new SpaceExhaustedException("no free slot among the " + MAX_PROBE + " slots from the key's home slot "
                        + k.home + " in replica group " + k.group + " (" + layout.slotsPerGroup()
                        + " slots per group); nothing was changed");
            }
            Held held = acquire(k.group, layout.slotOffset(free), layout.slotBytes(), 0, 0, op);
            Record r = current(k.group, free, held, op);
            if (!r.reusable()) {
                release(op, held);
                continue;
            }
            if (!withinLease(indexLock)) {
                release(op, held);
                return Created.RETRY;
            }
            try {
                index.insert(k.bytes, slotRef(k.group, free), level(k), op);
            } catch (RuntimeException e) {
                release(op, held);
                throw e;
            }
            commit(k.group, free, RecordLayout.encode(r.seq() + 1, RecordLayout.LIVE, k.bytes, value), held, indexLock, op);
            slots.put(k, free);
            return Created.INDEX_LOCK_RELEASED;
        }
        throw new StoreUnavailableException("a free slot for a new key kept being taken under 64 attempts");
    }

    /** Deletes under the index lock: a tombstone in the slot, then the key leaves the index. */
    private void remove(DirectKey k, TrafficCounter op) {
        if (find(k, op) == null) {
            return;
        }
        Held indexLock = acquireIndex(op);
        try {
            for (int attempt = 0; attempt < 64; attempt++) {
                Found f = locate(k, op);
                if (f == null) {
                    return;
                }
                long slot = f.slot();
                Held held = acquire(k.group, layout.slotOffset(slot), layout.slotBytes(), 0, 0, op);
                Record r = current(k.group, slot, held, op);
                if (!r.holds(k.bytes)) {
                    release(op, held);
                    slots.remove(k, slot);
                    continue;
                }
                commit(k.group, slot, RecordLayout.encode(r.seq() + 1, RecordLayout.TOMBSTONE, new byte[0], new byte[0]),
                        held, null, op);
                slots.remove(k, slot);
                if (withinLease(indexLock)) {
                    index.remove(k.bytes, op);
                } else {
                    // The deletion is done; its index entry stays behind, which scans skip.
                    LOG.info("a deletion kept the index lock too long to change the index; its key stays in the index");
                }
                return;
            }
            throw new StoreUnavailableException("the slot of a key kept moving under 64 deletions");
        } finally {
            release(op, indexLock);
        }
    }

    /**
     * Log ×R, slot ×R, unlock (with {@code alsoRelease}, when given): three round trips, each write
     * made durable before the next starts.
     */
    private void commit(int group, long slot, byte[] record, Held held, Held alsoRelease, TrafficCounter op) {
        checkLease(held);
        onReplicas(group, (n, b) -> {
            b.write(nodes.region(n), layout.logRecordOffset(slot), record);
            b.flush(nodes.region(n), layout.logRecordOffset(slot), record.length);
        }, op);
        checkLease(held);
        onReplicas(group, (n, b) -> {
            b.write(nodes.region(n), layout.slotOffset(slot) + 8, record);
            b.flush(nodes.region(n), layout.slotOffset(slot) + 8, record.length);
        }, op);
        if (alsoRelease == null) {
            release(op, held);
        } else {
            release(op, held, alsoRelease);
        }
    }

    /**
     * Makes every replica's slot hold the newest whole record among the slot and log records of all
     * replicas (the caller holds the lock); returns it.
     */
    private Record repair(int group, long slot, TrafficCounter op) {
        List<BatchResult> results = onReplicas(group, (n, b) -> {
            b.read(nodes.region(n), layout.slotOffset(slot) + 8, layout.recordBytes());
            b.read(nodes.region(n), layout.logRecordOffset(slot), layout.recordBytes());
        }, op);
        Record best = null;
        boolean consistent = true;
        Record[] slotRecords = new Record[results.size()];
        for (int i = 0; i < results.size(); i++) {
            slotRecords[i] = RecordLayout.decode(results.get(i).bytes(0), 0, layout.maxKeyBytes(), layout.maxValueBytes());
            Record log = RecordLayout.decode(results.get(i).bytes(1), 0, layout.maxKeyBytes(), layout.maxValueBytes());
            for (Record r : new Record[] {slotRecords[i], log}) {
                if (r != null && (best == null || r.seq() > best.seq())) {
                    best = r;
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("slot " + slot + " of replica group " + group
                    + " holds no whole record on any replica, in its slot or its log");
        }
        for (Record r : slotRecords) {
            consistent &= r != null && Arrays.equals(r.bytes(), best.bytes());
        }
        // Written back even when the replicas agree: what they hold may not have been flushed by its writer.
        byte[] bytes = best.bytes();
        boolean rewrite = !consistent;
        onReplicas(group, (n, b) -> {
            if (rewrite) {
                b.write(nodes.region(n), layout.slotOffset(slot) + 8, bytes);
            }
            b.flush(nodes.region(n), layout.slotOffset(slot) + 8, layout.recordBytes());
            b.flush(nodes.region(n), layout.logRecordOffset(slot), layout.recordBytes());
        }, op);
        return best;
    }

    // ---------------------------------------------------------------- locks

    /** A lock held on the in-service replicas of a group. */
    private record Held(int group, long offset, long word, long acquiredNanos, boolean tookOver, byte[] primaryRead) {}

    private long nextLockWord() {
        long n = lockCounter.incrementAndGet() & 0xFFFF_FFFFL;
        if (n == 0) {
            n = lockCounter.incrementAndGet() & 0xFFFF_FFFFL;
        }
        return (clientId << 32) | n;
    }

    private Held acquireIndex(TrafficCounter op) {
        Held held = acquire(0, DirectLayout.INDEX_LOCK_OFFSET, DirectLayout.INDEX_HEADER_BYTES, 0, 0, op);
        try {
            if (held.tookOver) {
                index.resync(op);
                index.begin(indexReplicas.readPrimary(DirectLayout.INDEX_LOCK_OFFSET, DirectLayout.INDEX_HEADER_BYTES, op));
            } else {
                index.begin(held.primaryRead);
            }
        } catch (RuntimeException e) {
            release(op, held);
            throw e;
        }
        return held;
    }

    /**
     * Takes the lock word at {@code offset} on every in-service replica of {@code group}: CAS from 0
     * and a flush, with a READ of {@code readLength} bytes from the lock word on the primary after
     * them (the slot's record, the index header), one round trip. A lock held by one word for a whole lease — counted from
     * {@code seenSince} when the caller already watched {@code seenWord} — is taken over; the
     * result says so, and the caller must repair what the dead owner left.
     */
    private Held acquire(int group, long offset, int readLength, long seenWord, long seenSince, TrafficCounter op) {
        long watched = seenWord;
        long since = seenSince;
        long deadline = clock.getAsLong() + LOCK_WAIT_NANOS + leaseNanos;
        for (int attempt = 0; ; attempt++) {
            ensureFreshView();
            long mine = nextLockWord();
            List<Integer> replicas = inService(group);
            int primary = replicas.get(0);
            List<RoundTrip.Outcome> outcomes = casOn(replicas, offset, 0L, mine, readLength > 0 ? primary : -1, readLength, op);
            long[] found = new long[replicas.size()];
            boolean[] got = new boolean[replicas.size()];
            FabricException failure = null;
            int failedNode = -1;
            byte[] read = null;
            boolean all = true;
            for (int i = 0; i < replicas.size(); i++) {
                RoundTrip.Outcome o = outcomes.get(i);
                if (!o.succeeded()) {
                    failure = o.failure();
                    failedNode = replicas.get(i);
                    all = false;
                    continue;
                }
                found[i] = o.result().oldValue(0);
                got[i] = o.result().swapped(0);
                all &= got[i];
                if (replicas.get(i) == primary && readLength > 0) {
                    read = o.result().bytes(2);
                }
            }
            long now = clock.getAsLong();
            if (all) {
                return new Held(group, offset, mine, now, false, read);
            }
            if (failure != null) {
                undo(replicas, got, offset, mine, 0L, op);
                lost(failedNode, failure);
                continue;
            }
            long other = 0;
            boolean single = true;
            boolean watchedSeen = false;
            for (int i = 0; i < replicas.size(); i++) {
                if (!got[i]) {
                    watchedSeen |= found[i] == watched && watched != 0;
                    if (other == 0) {
                        other = found[i];
                    } else if (other != found[i]) {
                        single = false;
                    }
                }
            }
            if (!watchedSeen) {
                watched = single ? other : 0;
                since = now;
            } else if (single && now - since >= leaseNanos) {
                Held taken = takeOver(group, replicas, got, offset, watched, mine, op);
                if (taken != null) {
                    LOG.info("took over the lock at offset {} of replica group {}, held for a whole lease by {}", offset,
                            group, Long.toHexString(watched));
                    return taken;
                }
                undo(replicas, got, offset, mine, 0L, op);
                backoff(attempt);
                continue;
            }
            undo(replicas, got, offset, mine, 0L, op);
            if (now - deadline > 0) {
                throw new StoreUnavailableException("the lock at offset " + offset + " of replica group " + group
                        + " stayed busy for " + TimeUnit.NANOSECONDS.toSeconds(LOCK_WAIT_NANOS) + " s");
            }
            backoff(attempt);
        }
    }

    /** CAS {@code dead -> mine} where the dead owner's word is; null (and nothing changed) unless all replicas are won. */
    private Held takeOver(int group, List<Integer> replicas, boolean[] got, long offset, long dead, long mine,
                          TrafficCounter op) {
        List<Integer> targets = new ArrayList<>();
        for (int i = 0; i < replicas.size(); i++) {
            if (!got[i]) {
                targets.add(replicas.get(i));
            }
        }
        List<RoundTrip.Outcome> outcomes = casOn(targets, offset, dead, mine, -1, 0, op);
        boolean[] won = new boolean[targets.size()];
        boolean all = true;
        FabricException failure = null;
        int failedNode = -1;
        for (int i = 0; i < targets.size(); i++) {
            RoundTrip.Outcome o = outcomes.get(i);
            won[i] = o.succeeded() && o.result().swapped(0);
            all &= won[i];
            if (!o.succeeded()) {
                failure = o.failure();
                failedNode = targets.get(i);
            }
        }
        if (all) {
            return new Held(group, offset, mine, clock.getAsLong(), true, null);
        }
        undo(targets, won, offset, mine, dead, op);
        if (failure != null) {
            lost(failedNode, failure);
        }
        return null;
    }

    private List<RoundTrip.Outcome> casOn(List<Integer> targets, long offset, long expected, long desired, int readFrom,
                                          int readLength, TrafficCounter op) {
        RoundTrip rt = RoundTrip.on(op);
        List<RoundTrip.Outcome> early = new ArrayList<>();
        List<Integer> postedAt = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            int n = targets.get(i);
            try {
                Batch b = new Batch(3);
                b.compareAndSwap(nodes.region(n), offset, expected, desired);
                b.flush(nodes.region(n), offset, 8);
                if (n == readFrom) {
                    b.read(nodes.region(n), offset, readLength);
                }
                rt.post(nodes.connection(n), b);
                postedAt.add(i);
                early.add(null);
            } catch (FabricException notConnected) {
                early.add(new RoundTrip.Outcome(null, notConnected));
            }
        }
        List<RoundTrip.Outcome> awaited = rt.awaitEach();
        for (int j = 0; j < postedAt.size(); j++) {
            early.set(postedAt.get(j), awaited.get(j));
        }
        return early;
    }

    /** Puts back {@code restore} where this client's word went in; best effort, failures are reported. */
    private void undo(List<Integer> replicas, boolean[] got, long offset, long mine, long restore, TrafficCounter op) {
        List<Integer> targets = new ArrayList<>();
        for (int i = 0; i < replicas.size(); i++) {
            if (got[i]) {
                targets.add(replicas.get(i));
            }
        }
        if (targets.isEmpty()) {
            return;
        }
        List<RoundTrip.Outcome> outcomes = casOn(targets, offset, mine, restore, -1, 0, op);
        for (int i = 0; i < targets.size(); i++) {
            if (!outcomes.get(i).succeeded()) {
                lost(targets.get(i), outcomes.get(i).failure());
            }
        }
    }

    /**
     * Unlocks, all locks in one round trip, each with a CAS from this client's word, so a lock taken
     * over meanwhile is never cleared.
     */
    private void release(TrafficCounter op, Held... helds) {
        for (int attempt = 0; attempt <= layout.replication(); attempt++) {
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> postedNodes = new ArrayList<>();
            List<Held> postedHelds = new ArrayList<>();
            FabricException early = null;
            int earlyNode = -1;
            for (Held held : helds) {
                for (int n : inService(held.group)) {
                    try {
                        Batch b = new Batch(2);
                        b.compareAndSwap(nodes.region(n), held.offset, held.word, 0L);
                        b.flush(nodes.region(n), held.offset, 8);
                        rt.post(nodes.connection(n), b);
                        postedNodes.add(n);
                        postedHelds.add(held);
                    } catch (FabricException notConnected) {
                        early = notConnected;
                        earlyNode = n;
                    }
                }
            }
            List<RoundTrip.Outcome> outcomes = rt.awaitEach();
            boolean failed = early != null;
            if (early != null) {
                lost(earlyNode, early);
            }
            for (int i = 0; i < outcomes.size(); i++) {
                RoundTrip.Outcome o = outcomes.get(i);
                if (!o.succeeded()) {
                    lost(postedNodes.get(i), o.failure());
                    failed = true;
                } else if (!o.result().swapped(0) && o.result().oldValue(0) != 0) {
                    LOG.warn("the lock at offset {} of replica group {} was taken over before this client released it",
                            postedHelds.get(i).offset, postedHelds.get(i).group);
                }
            }
            if (!failed) {
                return;
            }
        }
    }

    private boolean withinLease(Held held) {
        return clock.getAsLong() - held.acquiredNanos <= leaseNanos * 3 / 4;
    }

    /** A writer that may have outlived its lease stops: the next taker's repair decides the outcome. */
    private void checkLease(Held held) {
        long elapsed = clock.getAsLong() - held.acquiredNanos;
        if (elapsed > leaseNanos * 3 / 4) {
            throw new StoreUnavailableException("this client held a lock for " + TimeUnit.NANOSECONDS.toMillis(elapsed)
                    + " ms, close to the pool's lease of " + TimeUnit.NANOSECONDS.toMillis(leaseNanos) + " ms; it stops"
                    + " writing and the next taker of the lock completes or discards the write");
        }
    }

    private static void backoff(int attempt) {
        if (attempt < 4) {
            Thread.onSpinWait();
        } else if (attempt < 16) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1_000, 20_000L << Math.min(attempt - 16, 5)));
        }
    }

    // ---------------------------------------------------------------- replicas and membership

    private interface BatchBuilder {
        void fill(int node, Batch batch);
    }

    /**
     * One batch per in-service replica of {@code group}, awaited together: one round trip. A replica
     * that cannot be reached is taken out of service and the batch repeated on those left, so the
     * batches must be idempotent. Results are in the order of the replicas in service.
     */
    private List<BatchResult> onReplicas(int group, BatchBuilder builder, TrafficCounter op) {
        for (int attempt = 0; ; attempt++) {
            List<Integer> replicas = inService(group);
            RoundTrip rt = RoundTrip.on(op);
            FabricException early = null;
            int earlyNode = -1;
            for (int n : replicas) {
                try {
                    Batch b = new Batch(4);
                    builder.fill(n, b);
                    rt.post(nodes.connection(n), b);
                } catch (FabricException notConnected) {
                    early = notConnected;
                    earlyNode = n;
                    break;
                }
            }
            List<RoundTrip.Outcome> outcomes = rt.awaitEach();
            if (early != null) {
                lost(earlyNode, early);
                continue;
            }
            List<BatchResult> results = new ArrayList<>(replicas.size());
            boolean failed = false;
            for (int i = 0; i < outcomes.size(); i++) {
                if (!outcomes.get(i).succeeded()) {
                    lost(replicas.get(i), outcomes.get(i).failure());
                    failed = true;
                } else {
                    results.add(outcomes.get(i).result());
                }
            }
            if (!failed) {
                return results;
            }
            if (attempt > layout.replication()) {
                throw new StoreUnavailableException("the replicas of group " + group + " keep failing");
            }
        }
    }

    private final class IndexReplicas implements KeyIndex.Replicas {
        @Override
        public byte[] readPrimary(long offset, int length, TrafficCounter op) {
            while (true) {
                int primary = primary(0);
                try {
                    Batch b = new Batch(1);
                    b.read(nodes.region(primary), offset, length);
                    RoundTrip rt = RoundTrip.on(op);
                    rt.post(nodes.connection(primary), b);
                    return rt.await().get(0).bytes(0);
                } catch (FabricException failed) {
                    lost(primary, failed);
                }
            }
        }

        @Override
        public void flushAll(long offset, long length, TrafficCounter op) {
            onReplicas(0, (n, b) -> b.flush(nodes.region(n), offset, length), op);
        }

        @Override
        public void writeAll(List<KeyIndex.Write> writes, TrafficCounter op) {
            onReplicas(0, (n, b) -> {
                for (KeyIndex.Write w : writes) {
                    b.write(nodes.region(n), w.offset(), w.bytes());
                    b.flush(nodes.region(n), w.offset(), w.bytes().length);
                }
            }, op);
        }
    }

    /** The group's nodes in service, the acting primary first. */
    private List<Integer> inService(int group) {
        Membership.View v = view;
        List<Integer> in = new ArrayList<>(layout.replication());
        for (int n = group * layout.replication(); n < (group + 1) * layout.replication(); n++) {
            if (!v.isOut(n)) {
                in.add(n);
            }
        }
        if (in.isEmpty()) {
            throw new StoreUnavailableException("no memory node of replica group " + group + " is in service");
        }
        return in;
    }

    private int primary(int group) {
        return inService(group).get(0);
    }

    /**
     * A verb on {@code node} failed. When the node could not be reached it is taken out of service
     * by a majority of the pool — unless it is the last of its group in service, which is reported.
     * The change is acted on one membership lease later, once no client can still trust a view
     * that has the node in.
     */
    private void lost(int node, FabricException failure) {
        if (!PoolNodes.isUnreachable(failure)) {
            throw new StoreUnavailableException("memory node " + nodes.address(node) + " failed: " + failure.getMessage(),
                    failure);
        }
        if (closed) {
            throw new IllegalStateException("the pDPM-Direct client is closed", failure);
        }
        synchronized (viewLock) {
            if (view.isOut(node)) {
                return;
            }
            int group = node / layout.replication();
            if (inService(group).size() == 1) {
                throw new StoreUnavailableException("memory node " + nodes.address(node) + " cannot be reached and it is the"
                        + " last node in service of replica group " + group + ": " + failure.getMessage(), failure);
            }
            Membership.View next;
            try {
                next = membership.takeOut(node);
            } catch (RuntimeException undecided) {
                StoreUnavailableException e = new StoreUnavailableException("memory node " + nodes.address(node)
                        + " cannot be reached (" + failure.getMessage() + ") and could not be taken out of service: "
                        + undecided.getMessage(), failure);
                e.addSuppressed(undecided);
                throw e;
            }
            LOG.warn("memory node {} ({}) is out of service: {}", node, nodes.address(node), failure.getMessage());
            LockSupport.parkNanos(membershipLeaseNanos);
            adopt(next);
        }
    }

    private void adopt(Membership.View v) {
        synchronized (viewLock) {
            if (view == null || v.version() > view.version()) {
                view = v;
                for (int n : v.outNodes()) {
                    if (n < nodes.size()) {
                        nodes.disconnect(n);
                    }
                }
            }
            viewCheckedNanos = clock.getAsLong();
        }
    }

    private void ensureFreshView() {
        if (clock.getAsLong() - viewCheckedNanos > membershipLeaseNanos) {
            adopt(membership.read());
        }
    }

    private void refreshQuietly() {
        if (closed) {
            return;
        }
        try {
            adopt(membership.read());
        } catch (RuntimeException e) {
            LOG.debug("membership refresh failed: {}", e.toString());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the pDPM-Direct client is closed");
        }
    }

    // ---------------------------------------------------------------- scan

    @Override
    public KvCursor scan(byte[] prefix) {
        checkOpen();
        limits.checkPrefix(prefix);
        return new ScanCursor(prefix.clone());
    }

    /** Pages through the key index and reads each key's slot; the slots of a page in one round trip. */
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
                throw new NoSuchElementException("scan has no more entries");
            }
            return ready.poll();
        }

        private void fetchPage() {
            ensureFreshView();
            TrafficCounter op = new TrafficCounter();
            List<KeyIndex.Entry> page = index.page(prefix, after, SCAN_PAGE, op);
            if (page.size() < SCAN_PAGE) {
                exhausted = true;
            }
            if (page.isEmpty()) {
                return;
            }
            RoundTrip rt = RoundTrip.on(op);
            List<Integer> posted = new ArrayList<>();
            for (int i = 0; i < page.size(); i++) {
                long ref = page.get(i).slotRef();
                int group = (int) (ref >>> 40);
                if (group >= layout.groups()) {
                    continue;
                }
                try {
                    int primary = primary(group);
                    Batch b = new Batch(1);
                    b.read(nodes.region(primary), layout.slotOffset(ref & ((1L << 40) - 1)), layout.slotBytes());
                    rt.post(nodes.connection(primary), b);
                    posted.add(i);
                } catch (FabricException notConnected) {
                    // read below through the key, where failures are handled
                }
            }
            List<RoundTrip.Outcome> results = rt.awaitEach();
            byte[][] values = new byte[page.size()][];
            boolean[] done = new boolean[page.size()];
            for (int j = 0; j < posted.size(); j++) {
                int i = posted.get(j);
                if (!results.get(j).succeeded()) {
                    continue;
                }
                byte[] bytes = results.get(j).result().bytes(0);
                Record r = RecordLayout.decode(bytes, 8, layout.maxKeyBytes(), layout.maxValueBytes());
                // Unlocked and whole: the key's value, or none (the index entry outlived a deletion
                // that stopped before removing it, or the key moved since the page was read).
                if ((long) DirectLayout.LONG.get(bytes, 0) == 0 && r != null) {
                    values[i] = r.holds(page.get(i).key()) ? r.value() : null;
                    done[i] = true;
                }
            }
            for (int i = 0; i < page.size(); i++) {
                byte[] key = page.get(i).key();
                if (!done[i]) {
                    Record r = find(new DirectKey(key), op);
                    values[i] = r == null ? null : r.value();
                }
                if (values[i] != null) {
                    ready.add(new KvEntry(key, values[i]));
                }
                after = key;
            }
        }

        @Override
        public void close() {
            exhausted = true;
            ready.clear();
        }
    }

    // ---------------------------------------------------------------- stats, close

    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), getTraffic.roundTrips(), putTraffic.roundTrips(),
                deleteTraffic.roundTrips(), getTraffic.verbs() + putTraffic.verbs() + deleteTraffic.verbs(),
                getTraffic.bytes() + putTraffic.bytes() + deleteTraffic.bytes());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        refresh.cancel(false);
        nodes.close();
    }
}
