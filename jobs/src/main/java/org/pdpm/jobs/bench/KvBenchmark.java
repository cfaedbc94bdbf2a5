package org.pdpm.jobs.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;

/**
 * YCSB-style key-value benchmark over a {@link StoreDeployment}: a load phase writes every key once
 * (timed, not measured), a warm-up reads every key once through each store (so that Clover clients
 * start with warm caches, as long-running compute nodes have), then a run phase of GETs and PUTs in
 * the workload's mix, keys drawn by a {@link KeyChooser}, split over the threads. Each thread
 * has its own random source split from the seed, so a run's operation sequence is fixed by it.
 *
 * <p>With {@link Settings#inFlight()} above 1 a thread keeps up to that many GETs in flight through
 * {@link KvStore#getAsync} while its PUTs stay synchronous; a GET's latency then runs from its issue
 * to its completion. Right after each run the deployment measures its fabric's pipelined READ rate at
 * the run's concurrency (threads times in-flight), where it has a fabric to measure: the figure that
 * the store's round trips per second are held against. Then the same READs in the run's own shape —
 * as many threads, each synchronous or with as many in flight — which separates what the thread
 * structure costs on the machine from what the store adds.
 */
public final class KvBenchmark {

    /** Most GETs one thread keeps in flight. */
    public static final int MAX_IN_FLIGHT = 1024;

    /** How long the fabric's pipeline warms up, then is measured, after each run. */
    static final long FABRIC_WARMUP_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final long FABRIC_MEASURE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Seeds the warm-up's draws apart from the measured run's, which stay fixed by the seed alone. */
    private static final long WARMUP_SEED_SALT = 0x3A17_0F1AL;

    /** A GET still in flight this long after a thread wants its permit is taken as lost. */
    private static final long ASYNC_GET_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

    private static final int LOAD_BATCH = 128;
    private static final int WARMUP_BATCH = 256;

    /**
     * @param ops            operations of each run phase, over all threads; ignored when {@code durationNanos > 0}
     * @param durationNanos  length of each run phase instead of an operation count, or 0
     * @param inFlight       GETs each thread keeps in flight, 1..{@link #MAX_IN_FLIGHT}; 1 is a plain synchronous loop
     * @param warmupPercent  each run phase is first run unmeasured for this share of its operations (or of
     *                       its duration), 0..100, so that the JIT has compiled what the run measures, as
     *                       JMH's warm-up iterations do
     */
    public record Settings(Workload workload, KeyChooser chooser, long keys, int valueBytes, long ops,
                           long durationNanos, long seed, int inFlight, int warmupPercent) {
        public Settings {
            if (warmupPercent < 0 || warmupPercent > 100) {
                throw new IllegalArgumentException("warmupPercent=" + warmupPercent + " is outside 0..100");
            }
            if (keys < 1 || keys > KeySpace.MAX_KEYS) {
                throw new IllegalArgumentException("keys=" + keys + " is outside 1.." + KeySpace.MAX_KEYS);
            }
            if (valueBytes < 1) {
                throw new IllegalArgumentException("valueBytes=" + valueBytes + " must be positive");
            }
            if (durationNanos < 0 || (durationNanos == 0 && ops < 1)) {
                throw new IllegalArgumentException("ops=" + ops + " and durationNanos=" + durationNanos
                        + ": one of them must be positive");
            }
            if (inFlight < 1 || inFlight > MAX_IN_FLIGHT) {
                throw new IllegalArgumentException("inFlight=" + inFlight + " is outside 1.." + MAX_IN_FLIGHT);
            }
        }

        /** The settings of a synchronous run without warm-up: one operation at a time on each thread. */
        public Settings(Workload workload, KeyChooser chooser, long keys, int valueBytes, long ops, long durationNanos,
                        long seed) {
            this(workload, chooser, keys, valueBytes, ops, durationNanos, seed, 1, 0);
        }

        /** Operations of a run phase's warm-up, over all threads; 0 for a timed run or none. */
        public long warmupOps() {
            return durationNanos > 0 ? 0 : ops * warmupPercent / 100;
        }

        long warmupNanos() {
            return durationNanos * warmupPercent / 100;
        }
    }

    /** How long loading and warming up took, in seconds. */
    public record Preparation(double loadSeconds, double warmupSeconds) {}

    /**
     * The fabric's pipelined 8-byte READ rate from one thread, measured right after a run against
     * the deployment's first memory node, and how many READs were kept in flight; then the rate of
     * READs in the run's own shape (as many threads, each as many in flight), or null where the
     * deployment does not measure it.
     */
    public record FabricRate(long verbsPerSecond, int depth, Long sameShapeVerbsPerSecond) {}

    /**
     * One run phase's figures; latencies in nanoseconds, round trips NaN when not counted,
     * {@code fabric} null when the deployment has no fabric to measure.
     */
    public record Result(String system, Map<String, Object> deployment, int threads, int inFlight, long getOps,
                         long putOps, double seconds, Histogram getNanos, Histogram putNanos, double roundTripsPerGet,
                         double roundTripsPerPut, Preparation preparation, FabricRate fabric) {

        public long ops() {
            return getOps + putOps;
        }

        public double throughputOpsPerSecond() {
            return ops() / seconds;
        }

        /**
         * Round trips to the memory nodes per second of the run: its GETs and PUTs, each weighed by
         * its measured round trips; NaN when the store does not count them.
         */
        public double roundTripsPerSecond() {
            double getTrips = getOps == 0 ? 0 : getOps * roundTripsPerGet;
            double putTrips = putOps == 0 ? 0 : putOps * roundTripsPerPut;
            return (getTrips + putTrips) / seconds;
        }

        /**
         * {@link #roundTripsPerSecond()} over the fabric's pipelined READ rate at the same
         * concurrency: the share of what the fabric could carry that the store put to use; NaN when
         * either is missing.
         */
        public double fabricTargetRatio() {
            return fabric == null || fabric.verbsPerSecond() <= 0 ? Double.NaN
                    : roundTripsPerSecond() / fabric.verbsPerSecond();
        }

        /**
         * {@link #roundTripsPerSecond()} over the fabric's READ rate in the run's own shape: what the
         * store leaves of what the fabric carries for this thread structure; NaN when not measured.
         */
        public double sameShapeRatio() {
            return fabric == null || fabric.sameShapeVerbsPerSecond() == null || fabric.sameShapeVerbsPerSecond() <= 0
                    ? Double.NaN : roundTripsPerSecond() / fabric.sameShapeVerbsPerSecond();
        }

        /** The benchmark output line of DESIGN §5, plus the deployment's and the phases' details. */
        public Map<String, Object> toJson(Settings settings, Map<String, Object> machine) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("system", system);
            m.put("fabric", deployment.get("fabric"));
            m.put("workload", settings.workload().label());
            m.put("distribution", settings.chooser().distribution());
            m.put("zipf", Double.isNaN(settings.chooser().theta()) ? null : settings.chooser().theta());
            m.put("keys", settings.keys());
            m.put("value_size", settings.valueBytes());
            m.put("replication", deployment.get("replication"));
            m.put("threads", threads);
            m.put("in_flight", inFlight);
            m.put("ops", ops());
            m.put("seconds", seconds);
            m.put("throughput_ops_per_s", throughputOpsPerSecond());
            Map<String, Object> latency = new LinkedHashMap<>();
            latency.put("get", percentilesMicros(getNanos));
            latency.put("put", percentilesMicros(putNanos));
            m.put("latency_us", latency);
            Map<String, Object> roundTrips = new LinkedHashMap<>();
            roundTrips.put("get", orNull(roundTripsPerGet));
            roundTrips.put("put", orNull(roundTripsPerPut));
            m.put("round_trips_per_op", roundTrips);
            m.put("round_trips_per_s", orNull(roundTripsPerSecond()));
            m.put("fabric_pipelined_verbs_per_s", fabric == null ? null : fabric.verbsPerSecond());
            m.put("fabric_pipeline_depth", fabric == null ? null : fabric.depth());
            m.put("fabric_target_ratio", orNull(fabricTargetRatio()));
            m.put("fabric_same_shape_verbs_per_s", fabric == null ? null : fabric.sameShapeVerbsPerSecond());
            m.put("fabric_same_shape_ratio", orNull(sameShapeRatio()));
            Map<String, Object> counts = new LinkedHashMap<>();
            counts.put("get", getOps);
            counts.put("put", putOps);
            m.put("op_counts", counts);
            m.put("metadata_server", deployment.get("metadata_server"));
            m.put("clients", deployment.get("clients"));
            m.put("load_seconds", preparation.loadSeconds());
            m.put("warmup_seconds", preparation.warmupSeconds());
            m.put("seed", settings.seed());
            m.put("machine", machine);
            // What else the deployment reports (the lineage wrapper's checkpoints, say).
            deployment.forEach(m::putIfAbsent);
            return m;
        }

        private static Map<String, Object> percentilesMicros(Histogram h) {
            if (h.getTotalCount() == 0) {
                return null;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("p50", h.getValueAtPercentile(50) / 1000.0);
            m.put("p99", h.getValueAtPercentile(99) / 1000.0);
            return m;
        }

        private static Double orNull(double d) {
            return Double.isNaN(d) ? null : d;
        }
    }

    private final Settings settings;

    public KvBenchmark(Settings settings) {
        this.settings = settings;
    }

    /**
     * Writes every key once, split over the first {@code clients} clients, then reads every key once
     * through each of the deployment's stores.
     */
    public Preparation prepare(StoreDeployment deployment, int clients) {
        long start = System.nanoTime();
        List<Callable<Void>> loaders = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long from = settings.keys() * c / clients;
            long to = settings.keys() * (c + 1) / clients;
            KvStore store = deployment.client(c);
            // Load values come from streams of their own, so the run's draws do not depend on how the load was split.
            SplittableRandom random = new SplittableRandom(settings.seed() ^ 0x10AD_10ADL ^ c);
            loaders.add(() -> {
                load(store, from, to, random);
                return null;
            });
        }
        runAll(loaders, "load");
        deployment.loaded();
        long loaded = System.nanoTime();
        List<Callable<Void>> warmers = new ArrayList<>();
        for (KvStore store : deployment.stores()) {
            warmers.add(() -> {
                warm(store);
                return null;
            });
        }
        runAll(warmers, "warm-up");
        long warmed = System.nanoTime();
        return new Preparation((loaded - start) / 1e9, (warmed - loaded) / 1e9);
    }

    private void load(KvStore store, long from, long to, SplittableRandom random) {
        List<KvEntry> batch = new ArrayList<>(LOAD_BATCH);
        for (long k = from; k < to; k++) {
            batch.add(new KvEntry(KeySpace.write(k, KeySpace.newKey()), randomValue(random)));
            if (batch.size() == LOAD_BATCH || k == to - 1) {
                store.putAll(batch);
                batch.clear();
            }
        }
    }

    private void warm(KvStore store) {
        List<byte[]> batch = new ArrayList<>(WARMUP_BATCH);
        for (long k = 0; k < settings.keys(); k++) {
            batch.add(KeySpace.write(k, KeySpace.newKey()));
            if (batch.size() == WARMUP_BATCH || k == settings.keys() - 1) {
                List<byte[]> values = store.getAll(batch);
                for (int i = 0; i < values.size(); i++) {
                    if (values.get(i) == null) {
                        throw new IllegalStateException("key " + new String(batch.get(i), StandardCharsets.US_ASCII)
                                + " is missing after the load phase");
                    }
                }
                batch.clear();
            }
        }
    }

    private byte[] randomValue(SplittableRandom random) {
        byte[] value = new byte[settings.valueBytes()];
        random.nextBytes(value);
        return value;
    }

    /**
     * One run phase on the first {@code threads} clients of {@code deployment}, after its warm-up
     * (the same mix of operations, drawn apart, not measured), then the deployment's fabric at a
     * pipeline depth of {@code threads} times {@link Settings#inFlight()}.
     */
    public Result run(String system, StoreDeployment deployment, int threads, Preparation preparation) {
        if (settings.warmupOps() > 0 || settings.warmupNanos() > 0) {
            runWorkers(deployment, threads, new SplittableRandom(settings.seed() ^ WARMUP_SEED_SALT),
                    settings.warmupOps(), settings.warmupNanos(), "run warm-up");
        }
        deployment.measuring();
        KvStats before = total(deployment);
        List<Worker> workers = runWorkers(deployment, threads, new SplittableRandom(settings.seed()), settings.ops(),
                settings.durationNanos(), "run");
        long startNanos = workers.get(0).startNanos.get();
        long endNanos = workers.stream().mapToLong(w -> w.endNanos).max().orElseThrow();
        KvStats delta = total(deployment).minus(before);

        int depth = threads * settings.inFlight();
        OptionalLong fabricRate = deployment.pipelinedFabricReadsPerSecond(depth, FABRIC_WARMUP_NANOS,
                FABRIC_MEASURE_NANOS);
        OptionalLong sameShape = fabricRate.isPresent()
                ? deployment.sameShapeFabricReadsPerSecond(threads, settings.inFlight(), FABRIC_WARMUP_NANOS,
                        FABRIC_MEASURE_NANOS)
                : OptionalLong.empty();

        Histogram get = new Histogram(3);
        Histogram put = new Histogram(3);
        long gets = 0;
        long puts = 0;
        for (Worker w : workers) {
            get.add(w.getNanos);
            put.add(w.putNanos);
            gets += w.getNanos.getTotalCount();
            puts += w.putNanos.getTotalCount();
        }
        return new Result(system, deployment.describe(), threads, settings.inFlight(), gets, puts,
                (endNanos - startNanos) / 1e9, get, put, delta.roundTripsPerGet(), delta.roundTripsPerPut(),
                preparation, fabricRate.isPresent() ? new FabricRate(fabricRate.getAsLong(), depth,
                        sameShape.isPresent() ? sameShape.getAsLong() : null) : null);
    }

    /**
     * Runs the workload on the first {@code threads} clients, for {@code durationNanos} or, when
     * that is 0, for {@code ops} operations split over the threads.
     */
    private List<Worker> runWorkers(StoreDeployment deployment, int threads, SplittableRandom master, long ops,
                                    long durationNanos, String phase) {
        AtomicLong startNanos = new AtomicLong();
        CyclicBarrier startLine = new CyclicBarrier(threads, () -> startNanos.set(System.nanoTime()));
        AtomicBoolean failed = new AtomicBoolean();
        List<Worker> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long quota = ops / threads + (t < ops % threads ? 1 : 0);
            workers.add(new Worker(deployment.client(t), master.split(), quota, durationNanos, startLine, startNanos,
                    failed));
        }
        runAll(workers, phase, failed);
        return workers;
    }

    /** The sum of every store's counters; a counter one store does not keep stays -1. */
    private static KvStats total(StoreDeployment deployment) {
        KvStats sum = new KvStats(0, 0, 0, 0, 0, 0, 0, 0);
        for (KvStore s : deployment.stores()) {
            KvStats k = s.stats();
            sum = new KvStats(sum.gets() + k.gets(), sum.puts() + k.puts(), sum.deletes() + k.deletes(),
                    add(sum.getRoundTrips(), k.getRoundTrips()), add(sum.putRoundTrips(), k.putRoundTrips()),
                    add(sum.deleteRoundTrips(), k.deleteRoundTrips()), add(sum.verbs(), k.verbs()),
                    add(sum.bytes(), k.bytes()));
        }
        return sum;
    }

    private static long add(long a, long b) {
        return a < 0 || b < 0 ? -1 : a + b;
    }

    /**
     * One benchmark thread: its store, its random source, its histograms. GETs kept in flight
     * complete on the store's threads: in a mixed run they record into {@link #getNanos}, then a
     * {@link ConcurrentHistogram}; a read-only run's chains record apart and are added at the end.
     */
    private final class Worker implements Callable<Void> {
        private final KvStore store;
        private final SplittableRandom random;
        private final long quota;
        private final long durationNanos;
        private final CyclicBarrier startLine;
        final AtomicLong startNanos;
        private final AtomicBoolean failed;
        final Histogram getNanos = settings.inFlight() == 1 || settings.workload().updateFraction() == 0
                ? new Histogram(3) : new ConcurrentHistogram(3);
        final Histogram putNanos = new Histogram(3);
        long endNanos;

        Worker(KvStore store, SplittableRandom random, long quota, long durationNanos, CyclicBarrier startLine,
               AtomicLong startNanos, AtomicBoolean failed) {
            this.store = store;
            this.random = random;
            this.quota = quota;
            this.durationNanos = durationNanos;
            this.startLine = startLine;
            this.startNanos = startNanos;
            this.failed = failed;
        }

        private boolean timed() {
            return durationNanos > 0;
        }

        @Override
        public Void call() throws Exception {
            if (settings.inFlight() == 1) {
                return runSynchronously();
            }
            return settings.workload().updateFraction() == 0 ? runChained(settings.inFlight())
                    : runPipelined(settings.inFlight());
        }

        /**
         * A read-only run as an asynchronous client makes it: {@code inFlight} chains of GETs, each
         * issued from the completion of the one before (on whatever thread completes it), the way
         * {@code bench fabric} keeps its pipeline full. The thread only starts the chains and waits.
         */
        private Void runChained(int inFlight) throws Exception {
            KeyChooser chooser = settings.chooser();
            AtomicLong left = new AtomicLong(quota);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch finished = new CountDownLatch(inFlight);
            List<Chain> chains = new ArrayList<>();
            for (int c = 0; c < inFlight; c++) {
                chains.add(new Chain(random.split(), chooser, left, failure, finished));
            }
            startLine.await();
            long deadline = startNanos.get() + durationNanos;
            chains.forEach(c -> c.next(deadline));
            if (!finished.await(ASYNC_GET_TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("chained GETs did not finish within "
                        + TimeUnit.NANOSECONDS.toSeconds(ASYNC_GET_TIMEOUT_NANOS) + " s");
            }
            endNanos = System.nanoTime();
            chains.forEach(c -> getNanos.add(c.getNanos));
            rethrow(failure.get());
            return null;
        }

        /**
         * One chain of GETs: each issued when the one before completes. A chain's completions run
         * one after another, so it records latencies into a plain histogram of its own: a shared
         * concurrent one took about 6% of the completion thread's samples (JFR, 1 x 16).
         */
        private final class Chain {
            private final SplittableRandom random;
            private final KeyChooser chooser;
            private final AtomicLong left;
            private final AtomicReference<Throwable> failure;
            private final CountDownLatch finished;
            private final Histogram getNanos = new Histogram(3);

            Chain(SplittableRandom random, KeyChooser chooser, AtomicLong left, AtomicReference<Throwable> failure,
                  CountDownLatch finished) {
                this.random = random;
                this.chooser = chooser;
                this.left = left;
                this.failure = failure;
                this.finished = finished;
            }

            /** Issues GETs until one is still in flight (its completion goes on) or the run is over. */
            void next(long deadline) {
                while (true) {
                    boolean over = timed() ? System.nanoTime() >= deadline : left.getAndDecrement() <= 0;
                    if (over || failed.get()) {
                        finished.countDown();
                        return;
                    }
                    byte[] key = KeySpace.newKey();
                    KeySpace.write(chooser.next(random), key);
                    long t0 = System.nanoTime();
                    CompletableFuture<byte[]> f;
                    try {
                        f = store.getAsync(key);
                    } catch (RuntimeException e) {
                        fail(e);
                        continue;
                    }
                    if (!f.isDone()) {
                        f.whenComplete((v, error) -> {
                            if (completed(t0, error)) {
                                next(deadline);
                            } else {
                                finished.countDown();
                            }
                        });
                        return;
                    }
                    if (!completed(t0, f.handle((v, e) -> e).join())) {
                        finished.countDown();
                        return;
                    }
                }
            }

            private boolean completed(long t0, Throwable error) {
                if (error != null) {
                    fail(unwrap(error));
                    return false;
                }
                getNanos.recordValue(Math.max(0, System.nanoTime() - t0));
                return true;
            }

            private void fail(Throwable e) {
                failure.compareAndSet(null, e);
                failed.set(true);
            }
        }

        private Void runSynchronously() throws Exception {
            issue(key -> {
                long t0 = System.nanoTime();
                store.get(key);
                getNanos.recordValue(System.nanoTime() - t0);
            });
            endNanos = System.nanoTime();
            return null;
        }

        /**
         * As {@link #runSynchronously()}, the same operations in the same order, but each GET is
         * issued with {@link KvStore#getAsync} once one of {@code inFlight} permits is free, and
         * gives its permit back when it completes. A failed GET stops every thread and is thrown
         * here, once the GETs still in flight have completed.
         */
        private Void runPipelined(int inFlight) throws Exception {
            Semaphore permits = new Semaphore(inFlight);
            AtomicReference<Throwable> getFailure = new AtomicReference<>();
            try {
                issue(key -> {
                    acquire(permits, 1);
                    // The store may use the key after getAsync returns (Clover falls back to a blocking get of it).
                    byte[] own = key.clone();
                    long t0 = System.nanoTime();
                    CompletableFuture<byte[]> f;
                    try {
                        f = store.getAsync(own);
                    } catch (RuntimeException | Error e) {
                        permits.release();
                        throw e;
                    }
                    f.whenComplete((v, error) -> {
                        if (error == null) {
                            getNanos.recordValue(Math.max(0, System.nanoTime() - t0));
                        } else {
                            getFailure.compareAndSet(null, unwrap(error));
                            failed.set(true);
                        }
                        permits.release();
                    });
                });
            } finally {
                // Whatever ends the loop, no GET of this thread may outlive it.
                acquire(permits, inFlight);
            }
            endNanos = System.nanoTime();
            rethrow(getFailure.get());
            return null;
        }

        /** How a thread's loop issues one GET of {@code key} (a buffer it reuses). */
        private interface GetIssuer {
            void get(byte[] key) throws Exception;
        }

        /** The thread's operations, in order: PUTs synchronous, GETs as {@code gets} issues them. */
        private void issue(GetIssuer gets) throws Exception {
            byte[] key = KeySpace.newKey();
            byte[] value = randomValue(random);
            KeyChooser chooser = settings.chooser();
            Workload workload = settings.workload();
            startLine.await();
            long deadline = startNanos.get() + durationNanos;
            long done = 0;
            while (!failed.get() && (timed() ? System.nanoTime() < deadline : done < quota)) {
                KeySpace.write(chooser.next(random), key);
                if (workload.nextIsUpdate(random)) {
                    // A different value each time, so no store can recognise a rewrite; one byte is enough.
                    value[0]++;
                    long t0 = System.nanoTime();
                    store.put(key, value);
                    putNanos.recordValue(System.nanoTime() - t0);
                } else {
                    gets.get(key);
                }
                done++;
            }
        }
    }

    /** Throws what made an asynchronous GET fail, as itself where it can; nothing when null. */
    private static void rethrow(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            throw r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        if (cause != null) {
            throw new IllegalStateException("a GET failed: " + cause, cause);
        }
    }

    private static void acquire(Semaphore permits, int n) throws InterruptedException {
        if (!permits.tryAcquire(n, ASYNC_GET_TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException("a GET issued with getAsync did not complete within "
                    + TimeUnit.NANOSECONDS.toSeconds(ASYNC_GET_TIMEOUT_NANOS) + " s");
        }
    }

    /** What went wrong, without the wrapping a dependent stage of a CompletableFuture adds. */
    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static void runAll(List<? extends Callable<Void>> tasks, String phase) {
        runAll(tasks, phase, new AtomicBoolean());
    }

    /** Runs the tasks on threads of their own; the first failure stops the others (through {@code failed}) and is thrown. */
    private static void runAll(List<? extends Callable<Void>> tasks, String phase, AtomicBoolean failed) {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size(), r -> {
            Thread t = new Thread(r, "pdpm-bench-kv-" + phase);
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (Callable<Void> task : tasks) {
                futures.add(pool.submit(() -> {
                    try {
                        return task.call();
                    } catch (Exception | Error e) {
                        failed.set(true);
                        throw e;
                    }
                }));
            }
            RuntimeException first = null;
            for (Future<Void> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = asRuntime(phase, e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failed.set(true);
                    throw new IllegalStateException("interrupted during the " + phase + " phase", e);
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static RuntimeException asRuntime(String phase, Throwable cause) {
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("the " + phase + " phase failed: " + cause, cause);
    }
}
