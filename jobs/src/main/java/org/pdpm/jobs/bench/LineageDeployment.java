package org.pdpm.jobs.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.lineage.StoreLineages;

/**
 * pDPM-Direct or pDPM-Central measured through lineages, as the Flink backend uses them after a
 * restore: the load phase writes a base lineage; then each benchmark thread gets a lineage forked
 * from the loaded (and pinned) base, written by that thread only through its own store client, and
 * every {@code checkpointEveryOps} operations of a thread it takes a checkpoint as Flink does:
 * pin the epoch that ends, advance, and release the checkpoint before (subsumption). Throughput
 * includes the checkpoints (their mean time, and that of the unpin in them, are reported); round
 * trips per GET and PUT are those of the key-value operations.
 */
public final class LineageDeployment implements StoreDeployment {

    private static final String OWNER = "bench-";

    private final StoreDeployment inner;
    private final int checkpointEveryOps;
    private final int clients;
    private final StoreLineages catalog;
    private final int base;
    private final List<KvStore> loaders = new ArrayList<>();
    private final List<CheckpointingStore> writers = new ArrayList<>();
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong checkpointNanos = new AtomicLong();
    private final AtomicLong unpinNanos = new AtomicLong();

    private LineageDeployment(StoreDeployment inner, int clients, int checkpointEveryOps) {
        this.inner = inner;
        this.clients = clients;
        this.checkpointEveryOps = checkpointEveryOps;
        this.catalog = StoreLineages.over(conditional(inner.client(0)));
        this.base = catalog.createLineage();
        for (int c = 0; c < clients; c++) {
            // Loaders write disjoint keys of the base lineage once each, under no pin: nothing to preserve.
            loaders.add(StoreLineages.over(conditional(inner.client(c))).open(base, 1));
        }
    }

    /**
     * {@code system} sized for {@code plan}'s keys in the base lineage plus, in each thread's lineage,
     * a record per key written and a preserved version for each of the two live checkpoints — or,
     * when fewer, a record and a version per PUT of the runs — with keys and values under lineage headers.
     */
    public static LineageDeployment start(SystemKind system, Plan plan, int checkpointEveryOps) throws IOException {
        if (checkpointEveryOps < 1) {
            throw new IllegalArgumentException("checkpointEveryOps=" + checkpointEveryOps + " must be positive");
        }
        long perThreads = 3 * plan.keys() * plan.clients();
        long extra = plan.runPuts() > 0 ? Math.min(2 * plan.runPuts(), perThreads) : perThreads;
        Plan sized = new Plan(plan.fabric(), plan.replication(), plan.clients(), plan.keys() + extra + 1024,
                StoreLineages.storeKeyBytesFor(plan.keyBytes()), StoreLineages.storeValueBytesFor(plan.valueBytes()),
                plan.runPuts(), plan.pdpmMainClass());
        StoreDeployment inner = system.deploy(sized);
        try {
            return new LineageDeployment(inner, plan.clients(), checkpointEveryOps);
        } catch (RuntimeException e) {
            inner.close();
            throw e;
        }
    }

    private static ConditionalKvStore conditional(KvStore store) {
        if (store instanceof ConditionalKvStore c) {
            return c;
        }
        throw new IllegalArgumentException(store + " has no putIfAbsent; lineages run on direct and central only");
    }

    /** Pins the loaded base and forks one lineage per thread from it. */
    @Override
    public void loaded() {
        catalog.pin(base, 1, OWNER + "load");
        for (int c = 0; c < clients; c++) {
            StoreLineages lineages = StoreLineages.over(conditional(inner.client(c)));
            int lineage = lineages.fork(base, 1);
            writers.add(new CheckpointingStore(lineages, lineages.open(lineage, 1)));
        }
        catalog.dropLineage(base);
    }

    @Override
    public KvStore client(int thread) {
        return writers.isEmpty() ? loaders.get(thread) : writers.get(thread);
    }

    @Override
    public Iterable<KvStore> stores() {
        return writers.isEmpty() ? List.copyOf(loaders) : List.copyOf(writers);
    }

    @Override
    public void measuring() {
        checkpoints.set(0);
        checkpointNanos.set(0);
        unpinNanos.set(0);
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>(inner.describe());
        m.put("lineage_checkpoint_every_ops", checkpointEveryOps);
        long n = checkpoints.get();
        m.put("lineage_checkpoints", n);
        m.put("lineage_checkpoint_ms_mean", n == 0 ? null : checkpointNanos.get() / 1e6 / n);
        m.put("lineage_unpin_ms_mean", n == 0 ? null : unpinNanos.get() / 1e6 / n);
        return m;
    }

    @Override
    public OptionalLong pipelinedFabricReadsPerSecond(int depth, long warmupNanos, long nanos) {
        return inner.pipelinedFabricReadsPerSecond(depth, warmupNanos, nanos);
    }

    @Override
    public OptionalLong sameShapeFabricReadsPerSecond(int threads, int inFlight, long warmupNanos, long nanos) {
        return inner.sameShapeFabricReadsPerSecond(threads, inFlight, warmupNanos, nanos);
    }

    @Override
    public void close() throws IOException {
        writers.forEach(KvStore::close);
        loaders.forEach(KvStore::close);
        inner.close();
    }

    /** A thread's lineage writer that takes a checkpoint every {@code checkpointEveryOps} of its GETs, PUTs and DELETEs. */
    private final class CheckpointingStore implements KvStore {
        private final StoreLineages lineages;
        private final LineageStore store;
        private long ops;

        CheckpointingStore(StoreLineages lineages, LineageStore store) {
            this.lineages = lineages;
            this.store = store;
        }

        private void tick() {
            if (++ops % checkpointEveryOps != 0) {
                return;
            }
            long t0 = System.nanoTime();
            long epoch = store.epoch();
            lineages.pin(store.lineage(), epoch, OWNER + epoch);
            store.advanceEpoch(epoch + 1);
            long t1 = System.nanoTime();
            if (epoch > 1) {
                lineages.unpin(store.lineage(), epoch - 1, OWNER + (epoch - 1));
            }
            long t2 = System.nanoTime();
            checkpointNanos.addAndGet(t2 - t0);
            unpinNanos.addAndGet(t2 - t1);
            checkpoints.incrementAndGet();
        }

        @Override
        public byte[] get(byte[] key) {
            byte[] v = store.get(key);
            tick();
            return v;
        }

        /** The warm-up's batched reads: not operations of the workload, so no checkpoint is due. */
        @Override
        public List<byte[]> getAll(List<byte[]> keys) {
            return store.getAll(keys);
        }

        @Override
        public void put(byte[] key, byte[] value) {
            store.put(key, value);
            tick();
        }

        @Override
        public void delete(byte[] key) {
            store.delete(key);
            tick();
        }

        @Override
        public KvCursor scan(byte[] prefix) {
            return store.scan(prefix);
        }

        @Override
        public KvLimits limits() {
            return store.limits();
        }

        @Override
        public KvStats stats() {
            return store.stats();
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
