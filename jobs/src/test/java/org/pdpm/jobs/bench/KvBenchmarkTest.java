package org.pdpm.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;

class KvBenchmarkTest {

    private static final long FABRIC_RATE = 1_000_000;
    private static final long SAME_SHAPE_RATE = 250_000;

    private final ScheduledExecutorService completions = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "fake-store-completion");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stopCompletions() {
        completions.shutdownNow();
    }

    @Test
    void eachThreadKeepsUpToInFlightGetsOutstandingAndEveryOneIsCounted() {
        FakeDeployment deployment = new FakeDeployment(2, -1);
        KvBenchmark benchmark = new KvBenchmark(settings(Workload.of("c"), 3000, 8));

        KvBenchmark.Result r = benchmark.run("fake", deployment, 2, benchmark.prepare(deployment, 2));

        assertThat(r.inFlight()).isEqualTo(8);
        assertThat(r.getOps()).isEqualTo(3000);
        assertThat(r.putOps()).isZero();
        assertThat(r.getNanos().getTotalCount()).isEqualTo(3000);
        // Completions come 200 us after the issue: latency is issue to completion.
        assertThat(r.getNanos().getValueAtPercentile(50)).isGreaterThanOrEqualTo(TimeUnit.MICROSECONDS.toNanos(200));
        for (FakeStore s : deployment.stores) {
            assertThat(s.maxOutstanding.get()).isEqualTo(8);
            assertThat(s.outstanding.get()).isZero();
        }
        assertThat(r.fabric()).isEqualTo(new KvBenchmark.FabricRate(FABRIC_RATE, 16, SAME_SHAPE_RATE));
        assertThat(deployment.depths).containsExactly(16);
        assertThat(deployment.shapes).containsExactly(List.of(2, 8));
        assertThat(r.sameShapeRatio()).isCloseTo(r.roundTripsPerSecond() / SAME_SHAPE_RATE, within(1e-12));
        assertThat(r.roundTripsPerSecond()).isCloseTo(3000 / r.seconds(), within(1e-6));
        assertThat(r.fabricTargetRatio()).isCloseTo(r.roundTripsPerSecond() / FABRIC_RATE, within(1e-12));

        Map<String, Object> json = r.toJson(settings(Workload.of("c"), 3000, 8), Map.of());
        assertThat(json).containsEntry("in_flight", 8).containsEntry("fabric_pipelined_verbs_per_s", FABRIC_RATE)
                .containsEntry("fabric_pipeline_depth", 16).containsEntry("round_trips_per_s", r.roundTripsPerSecond())
                .containsEntry("fabric_target_ratio", r.fabricTargetRatio())
                .containsEntry("fabric_same_shape_verbs_per_s", SAME_SHAPE_RATE)
                .containsEntry("fabric_same_shape_ratio", r.sameShapeRatio());
    }

    @Test
    void inFlightChangesHowOperationsAreIssuedNotWhichOnes() {
        long[] counts = new long[4];
        int i = 0;
        for (int inFlight : new int[] {1, 16}) {
            FakeDeployment deployment = new FakeDeployment(3, -1);
            KvBenchmark benchmark = new KvBenchmark(settings(Workload.of("a"), 2000, inFlight));
            KvBenchmark.Result r = benchmark.run("fake", deployment, 3, benchmark.prepare(deployment, 3));
            assertThat(r.ops()).isEqualTo(2000);
            assertThat(r.getNanos().getTotalCount()).isEqualTo(r.getOps());
            assertThat(r.putNanos().getTotalCount()).isEqualTo(r.putOps());
            assertThat(r.fabric().depth()).isEqualTo(3 * inFlight);
            // The fake's PUT costs two round trips, its GET one.
            assertThat(r.roundTripsPerSecond()).isCloseTo((r.getOps() + 2.0 * r.putOps()) / r.seconds(), within(1e-6));
            counts[i++] = r.getOps();
            counts[i++] = r.putOps();
        }
        assertThat(counts[2]).isEqualTo(counts[0]);
        assertThat(counts[3]).isEqualTo(counts[1]);
    }

    @ParameterizedTest(name = "{0} in flight")
    @ValueSource(ints = {1, 8})
    void theWarmUpRunsTheSameMixUnmeasuredBeforeTheRun(int inFlight) {
        FakeDeployment deployment = new FakeDeployment(2, -1);
        KvBenchmark.Settings settings = new KvBenchmark.Settings(Workload.of("a"), KeyChooser.uniform(200), 200, 16,
                2000, 0, 5, inFlight, 25);
        KvBenchmark benchmark = new KvBenchmark(settings);
        KvBenchmark.Preparation preparation = benchmark.prepare(deployment, 2);
        long loadedGets = deployment.stores.stream().mapToLong(st -> st.stats().gets()).sum();
        long loadedPuts = deployment.stores.stream().mapToLong(st -> st.stats().puts()).sum();

        KvBenchmark.Result r = benchmark.run("fake", deployment, 2, preparation);

        assertThat(settings.warmupOps()).isEqualTo(500);
        // The stores served the warm-up's 500 operations and the run's 2,000; only the run is reported.
        long served = deployment.stores.stream().mapToLong(st -> st.stats().gets() + st.stats().puts()).sum()
                - loadedGets - loadedPuts;
        assertThat(served).isEqualTo(2500);
        assertThat(r.ops()).isEqualTo(2000);
        assertThat(r.getNanos().getTotalCount() + r.putNanos().getTotalCount()).isEqualTo(2000);
        // Both phases write: workload a updates half of what it touches.
        assertThat(r.putOps()).isBetween(850L, 1150L);
        assertThat(deployment.stores.stream().mapToLong(st -> st.stats().puts()).sum() - loadedPuts)
                .isGreaterThan(r.putOps());
        // The run's own draws do not depend on the warm-up: the same seed without one issues the same mix.
        FakeDeployment plain = new FakeDeployment(2, -1);
        KvBenchmark noWarmup = new KvBenchmark(settings(Workload.of("a"), 2000, inFlight));
        KvBenchmark.Result unwarmed = noWarmup.run("fake", plain, 2, noWarmup.prepare(plain, 2));
        assertThat(unwarmed.putOps()).isEqualTo(r.putOps());
    }

    @Test
    void aWarmUpOutsideZeroToHundredPercentIsRefused() {
        assertThatThrownBy(() -> new KvBenchmark.Settings(Workload.of("a"), KeyChooser.uniform(200), 200, 16, 10, 0, 5,
                1, 101)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("warmupPercent=101");
    }

    @ParameterizedTest(name = "workload {0}")
    @ValueSource(strings = {"b", "c"})   // c chains its GETs from completions; b issues them from the thread
    void aFailedAsynchronousGetFailsTheRunWithItsCause(String workload) {
        FakeDeployment deployment = new FakeDeployment(2, 100);
        KvBenchmark benchmark = new KvBenchmark(settings(Workload.of(workload), 100_000, 4));
        KvBenchmark.Preparation preparation = benchmark.prepare(deployment, 2);

        assertThatThrownBy(() -> benchmark.run("fake", deployment, 2, preparation))
                .isSameAs(deployment.stores.get(0).failure);
        for (FakeStore s : deployment.stores) {
            assertThat(s.outstanding.get()).isZero();
        }
        assertThat(deployment.depths).isEmpty();
    }

    @Test
    void withoutFabricOrRoundTripsTheirFieldsAreNull() {
        KvBenchmark.Settings settings = settings(Workload.of("a"), 10, 1);
        KvBenchmark.Result r = new KvBenchmark.Result("x", Map.of(), 1, 1, 5, 5, 1.0,
                new org.HdrHistogram.Histogram(3), new org.HdrHistogram.Histogram(3), Double.NaN, Double.NaN,
                new KvBenchmark.Preparation(0, 0), null);

        Map<String, Object> json = r.toJson(settings, Map.of());
        assertThat(json).containsEntry("in_flight", 1).containsEntry("round_trips_per_s", null)
                .containsEntry("fabric_pipelined_verbs_per_s", null).containsEntry("fabric_pipeline_depth", null)
                .containsEntry("fabric_target_ratio", null);
        assertThat(Json.write(json)).contains("\"fabric_target_ratio\":null");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, KvBenchmark.MAX_IN_FLIGHT + 1})
    void inFlightOutsideItsRangeIsRefused(int inFlight) {
        assertThatThrownBy(() -> settings(Workload.of("a"), 10, inFlight))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inFlight=" + inFlight);
    }

    private static KvBenchmark.Settings settings(Workload workload, long ops, int inFlight) {
        return new KvBenchmark.Settings(workload, KeyChooser.uniform(200), 200, 16, ops, 0, 5, inFlight, 0);
    }

    /**
     * One fake store per thread over one shared map; the fabric is a fixed rate, and the depths
     * asked for are kept.
     */
    private final class FakeDeployment implements StoreDeployment {
        final Map<String, byte[]> data = new ConcurrentHashMap<>();
        final List<FakeStore> stores = new ArrayList<>();
        final List<Integer> depths = new ArrayList<>();
        final List<List<Integer>> shapes = new ArrayList<>();

        /** @param failAt the getAsync call (1-based) of the first store that fails, or -1 */
        FakeDeployment(int clients, long failAt) {
            for (int i = 0; i < clients; i++) {
                stores.add(new FakeStore(data, i == 0 ? failAt : -1));
            }
        }

        @Override
        public KvStore client(int thread) {
            return stores.get(thread);
        }

        @Override
        public Iterable<KvStore> stores() {
            return List.copyOf(stores);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fabric", "fake");
            m.put("replication", null);
            m.put("metadata_server", null);
            m.put("clients", "one per thread");
            return m;
        }

        @Override
        public OptionalLong pipelinedFabricReadsPerSecond(int depth, long warmupNanos, long nanos) {
            depths.add(depth);
            return OptionalLong.of(FABRIC_RATE);
        }

        @Override
        public OptionalLong sameShapeFabricReadsPerSecond(int threads, int inFlight, long warmupNanos, long nanos) {
            shapes.add(List.of(threads, inFlight));
            return OptionalLong.of(SAME_SHAPE_RATE);
        }

        @Override
        public void close() {}
    }

    /**
     * A map whose asynchronous GETs complete 200 us later on another thread; one GET is one round
     * trip, one PUT two. It counts the GETs it has in flight.
     */
    private final class FakeStore implements KvStore {
        private final Map<String, byte[]> data;
        private final AtomicLong gets = new AtomicLong();
        private final AtomicLong puts = new AtomicLong();
        private final AtomicLong asyncCalls = new AtomicLong();
        private final long failAt;
        final RuntimeException failure = new IllegalStateException("memory node lost");
        final AtomicInteger outstanding = new AtomicInteger();
        final AtomicInteger maxOutstanding = new AtomicInteger();

        FakeStore(Map<String, byte[]> data, long failAt) {
            this.data = data;
            this.failAt = failAt;
        }

        @Override
        public byte[] get(byte[] key) {
            gets.incrementAndGet();
            return data.get(new String(key, java.nio.charset.StandardCharsets.ISO_8859_1));
        }

        @Override
        public CompletableFuture<byte[]> getAsync(byte[] key) {
            boolean fail = asyncCalls.incrementAndGet() == failAt;
            maxOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
            CompletableFuture<byte[]> f = new CompletableFuture<>();
            completions.schedule(() -> {
                outstanding.decrementAndGet();
                if (fail) {
                    f.completeExceptionally(failure);
                } else {
                    f.complete(get(key));
                }
            }, 200, TimeUnit.MICROSECONDS);
            // A dependent stage, as a real store returns: its failure arrives wrapped.
            return f.thenApply(v -> v);
        }

        @Override
        public void put(byte[] key, byte[] value) {
            puts.incrementAndGet();
            data.put(new String(key, java.nio.charset.StandardCharsets.ISO_8859_1), value.clone());
        }

        // The benchmark never deletes nor scans: a call would be a bug in it, and fails the test.
        @Override
        public void delete(byte[] key) {
            throw new AssertionError("bench kv deleted a key");
        }

        @Override
        public KvCursor scan(byte[] prefix) {
            throw new AssertionError("bench kv scanned");
        }

        @Override
        public KvLimits limits() {
            return new KvLimits(KeySpace.KEY_BYTES, 1 << 10);
        }

        @Override
        public KvStats stats() {
            return new KvStats(gets.get(), puts.get(), 0, gets.get(), 2 * puts.get(), 0, -1, -1);
        }

        @Override
        public void close() {}
    }
}
