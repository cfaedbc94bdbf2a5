package org.pdpm.rdma.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.sim.Faults;
import org.pdpm.rdma.sim.SimFabric;

/**
 * DESIGN §2's round-trip accounting: verbs posted together, to one node or to R replicas, and
 * awaited together count as one round trip on the operation's counter, while each connection still
 * counts its own batches. Run on every fabric that needs no outside process.
 */
class RoundTripAccountingTest {

    private static final int REPLICAS = 3;
    private static final int VALUE_BYTES = 64;

    /** A fabric with three fresh nodes. */
    private record Replicas(Fabric fabric, List<NodeAddress> nodes) {}

    static Stream<Named<Supplier<Replicas>>> fabrics() {
        return Stream.of(
                Named.of("local", () -> {
                    LocalFabric f = new LocalFabric();
                    return new Replicas(f, List.of(f.addNode(4096), f.addNode(4096), f.addNode(4096)));
                }),
                Named.of("local with latency", () -> {
                    LocalFabric f = new LocalFabric(Duration.ofMillis(1));
                    return new Replicas(f, List.of(f.addNode(4096), f.addNode(4096), f.addNode(4096)));
                }),
                Named.of("sim", () -> {
                    SimFabric f = SimFabric.builder().seed(8).build();
                    return new Replicas(f, List.of(f.addNode(4096), f.addNode(4096), f.addNode(4096)));
                }),
                Named.of("sim with seeded delays", () -> {
                    SimFabric f = SimFabric.builder().seed(8)
                            .faults(Faults.none().withDelays(0.5, Duration.ZERO, Duration.ofMillis(2))).build();
                    return new Replicas(f, List.of(f.addNode(4096), f.addNode(4096), f.addNode(4096)));
                }));
    }

    private Fabric fabric;
    private final List<Connection> replicas = new ArrayList<>();
    private final List<RemoteRegion> regions = new ArrayList<>();

    private void open(Supplier<Replicas> setup) {
        Replicas r = setup.get();
        fabric = r.fabric();
        for (NodeAddress n : r.nodes()) {
            Connection c = fabric.connect(n);
            replicas.add(c);
            regions.add(c.node().firstRegion());
        }
    }

    @AfterEach
    void close() {
        if (fabric != null) {
            fabric.close();
        }
    }

    @ParameterizedTest
    @MethodSource("fabrics")
    void aReplicatedWriteThenACasCostTwoRoundTrips(Supplier<Replicas> setup) {
        open(setup);
        TrafficCounter op = new TrafficCounter();
        byte[] value = new byte[VALUE_BYTES];
        value[0] = 42;

        RoundTrip write = RoundTrip.on(op);
        for (int i = 0; i < REPLICAS; i++) {
            Batch b = new Batch();
            b.write(regions.get(i), 0, value);
            write.post(replicas.get(i), b);
        }
        assertThat(write.await()).hasSize(REPLICAS).doesNotContainNull();
        assertThat(op.snapshot()).isEqualTo(new TrafficCounter.Snapshot(1, REPLICAS, REPLICAS * VALUE_BYTES));

        RoundTrip commit = RoundTrip.on(op);
        Batch cas = new Batch();
        int i = cas.compareAndSwap(regions.get(0), VALUE_BYTES, 0, 1);
        assertThat(commit.post(replicas.get(0), cas)).isNotNull();
        assertThat(commit.await().get(0).swapped(i)).isTrue();
        assertThat(op.snapshot()).isEqualTo(new TrafficCounter.Snapshot(2, REPLICAS + 1, REPLICAS * VALUE_BYTES + 8));

        assertThat(replicas.get(0).stats().snapshot()).isEqualTo(new TrafficCounter.Snapshot(2, 2, VALUE_BYTES + 8));
        for (int r = 1; r < REPLICAS; r++) {
            assertThat(replicas.get(r).stats().snapshot()).isEqualTo(new TrafficCounter.Snapshot(1, 1, VALUE_BYTES));
            assertThat(replicas.get(r).read(regions.get(r), 0, VALUE_BYTES)).isEqualTo(value);
        }
    }

    @ParameterizedTest
    @MethodSource("fabrics")
    void batchesAwaitedTogetherOnOneConnectionAreOneRoundTripForTheOperationOnly(Supplier<Replicas> setup) {
        open(setup);
        TrafficCounter op = new TrafficCounter();
        RoundTrip rt = RoundTrip.on(op);
        for (int k = 0; k < 2; k++) {
            Batch b = new Batch();
            b.read(regions.get(0), 8L * k, 8);
            b.fetchAndAdd(regions.get(0), 64, 1);
            rt.post(replicas.get(0), b);
        }
        Batch other = new Batch();
        other.read(regions.get(1), 0, 100);
        rt.post(replicas.get(1), other);

        List<BatchResult> results = rt.await();

        assertThat(results.get(0).oldValue(1)).isZero();
        assertThat(results.get(1).oldValue(1)).isEqualTo(1);
        assertThat(op.snapshot()).isEqualTo(new TrafficCounter.Snapshot(1, 5, 8 + 8 + 8 + 8 + 100));
        assertThat(replicas.get(0).stats().snapshot()).isEqualTo(new TrafficCounter.Snapshot(2, 4, 32));
        assertThat(replicas.get(1).stats().snapshot()).isEqualTo(new TrafficCounter.Snapshot(1, 1, 100));
    }

    @ParameterizedTest
    @MethodSource("fabrics")
    void awaitEachReportsEachReplicasFailureWithoutThrowingAndCountsOneRoundTrip(Supplier<Replicas> setup) {
        open(setup);
        TrafficCounter op = new TrafficCounter();
        RoundTrip rt = RoundTrip.on(op);
        for (int i = 0; i < REPLICAS; i++) {
            RemoteRegion target = i == 1 ? forged(regions.get(i)) : regions.get(i);
            Batch b = new Batch();
            b.write(target, 0, new byte[] {7, 7, 7, 7, 7, 7, 7, 7});
            rt.post(replicas.get(i), b);
        }

        List<RoundTrip.Outcome> outcomes = rt.awaitEach();

        assertThat(outcomes).extracting(RoundTrip.Outcome::succeeded).containsExactly(true, false, true);
        assertThat(outcomes.get(1).failure().status()).isEqualTo(FabricException.Status.REMOTE_ACCESS_ERROR);
        assertThat(outcomes.get(1).result()).isNull();
        assertThat(op.snapshot()).isEqualTo(new TrafficCounter.Snapshot(1, REPLICAS, 8L * REPLICAS));
        assertThat(replicas.get(0).read(regions.get(0), 0, 1)).containsExactly(7);
        assertThat(replicas.get(1).read(regions.get(1), 0, 1)).containsExactly(0);
        assertThat(replicas.get(2).read(regions.get(2), 0, 1)).containsExactly(7);
    }

    @ParameterizedTest
    @MethodSource("fabrics")
    void awaitThrowsTheFirstFailureInPostingOrderAfterEveryBatchCompleted(Supplier<Replicas> setup) {
        open(setup);
        TrafficCounter op = new TrafficCounter();
        RoundTrip rt = RoundTrip.on(op);
        Batch ok = new Batch();
        ok.fetchAndAdd(regions.get(0), 0, 5);
        rt.post(replicas.get(0), ok);
        Batch misaligned = new Batch();
        misaligned.compareAndSwap(regions.get(1), 4, 0, 1);
        rt.post(replicas.get(1), misaligned);
        Batch forged = new Batch();
        forged.fetchAndAdd(forged(regions.get(2)), 0, 1);
        rt.post(replicas.get(2), forged);

        assertThatThrownBy(rt::await).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status())
                        .isEqualTo(FabricException.Status.REMOTE_INVALID_REQUEST));

        assertThat(op.roundTrips()).isEqualTo(1);
        assertThat(replicas.get(0).fetchAndAdd(regions.get(0), 0, 0)).isEqualTo(5);
    }

    private static RemoteRegion forged(RemoteRegion region) {
        return new RemoteRegion(region.regionId(), region.sizeBytes(), ~region.rkey());
    }
}
