package org.pdpm.rdma.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/** A client stopped after its k-th verb has executed exactly its first k verbs, for every k. */
class SimCrashTest {

    private static final long SEED = 5;

    /** One write per verb, in the client's posting order: node index, word index, value. */
    private record Effect(int node, int word, long value) {}

    private static final List<Effect> EFFECTS = List.of(
            new Effect(0, 0, 1), new Effect(0, 1, 2),
            new Effect(1, 0, 3), new Effect(1, 1, 4), new Effect(1, 2, 5),
            new Effect(0, 2, 6));

    /** An operation over two nodes in three batches (2 + 3 + 1 verbs) using every mutating verb. */
    private static void operation(Connection n0, Connection n1) {
        RemoteRegion r0 = n0.node().firstRegion();
        RemoteRegion r1 = n1.node().firstRegion();
        Batch first = new Batch();
        first.write(r0, 0, Words.bytes(1));
        first.write(r0, 8, Words.bytes(2));
        n0.execute(first);
        Batch second = new Batch();
        second.compareAndSwap(r1, 0, 0, 3);
        second.write(r1, 8, Words.bytes(4));
        second.fetchAndAdd(r1, 16, 5);
        n1.execute(second);
        Batch third = new Batch();
        third.write(r0, 16, Words.bytes(6));
        third.flush(r0, 0, 24);
        n0.execute(third);
    }

    @Test
    void stoppingAfterEachVerbLeavesExactlyThePrefixExecuted() {
        long verbs = countVerbsOfOperation();
        assertThat(verbs).isEqualTo(EFFECTS.size() + 1);

        for (long k = 0; k <= verbs; k++) {
            try (SimFabric sim = SimFabric.builder().seed(SEED).build()) {
                List<NodeAddress> nodes = List.of(sim.addNode(4096), sim.addNode(4096));
                SimClient writer = sim.client("writer").crashAfterVerbs(k);
                Connection c0 = writer.connect(nodes.get(0));
                Connection c1 = writer.connect(nodes.get(1));
                if (k < verbs) {
                    assertThatThrownBy(() -> operation(c0, c1)).matches(SimulatedCrashException::isCrash);
                    assertThat(writer.isCrashed()).isTrue();
                } else {
                    operation(c0, c1);
                    assertThat(writer.isCrashed()).isFalse();
                }
                long[][] expected = new long[2][3];
                EFFECTS.stream().limit(k).forEach(e -> expected[e.node()][e.word()] = e.value());
                for (int n = 0; n < 2; n++) {
                    Connection checker = sim.connect(nodes.get(n));
                    assertThat(Words.read(checker, checker.node().firstRegion(), 0, 3))
                            .as("node %d after a stop at verb k=%d", n, k)
                            .containsExactly(expected[n]);
                }
            }
        }
    }

    private static long countVerbsOfOperation() {
        try (SimFabric sim = SimFabric.builder().seed(SEED).build()) {
            SimClient writer = sim.client("writer");
            operation(writer.connect(sim.addNode(4096)), writer.connect(sim.addNode(4096)));
            return writer.verbsPosted();
        }
    }

    @Test
    void aStoppedClientFailsEverythingAfterwardsWithFlushedWhileOthersCarryOn() {
        try (SimFabric sim = SimFabric.builder().seed(SEED).build()) {
            NodeAddress node = sim.addNode(4096);
            SimClient writer = sim.client("writer").crashAfterVerbs(1);
            Connection c = writer.connect(node);
            RemoteRegion region = c.node().firstRegion();
            c.write(region, 0, Words.bytes(1));

            assertThatThrownBy(() -> c.write(region, 8, Words.bytes(2)))
                    .matches(SimulatedCrashException::isCrash)
                    .isInstanceOf(FabricException.class)
                    .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(Status.FLUSHED))
                    .hasMessageContaining("writer").hasMessageContaining("seed=" + SEED);
            assertThat(c.post(new Batch())).failsWithin(Duration.ZERO)
                    .withThrowableThat().withCauseInstanceOf(SimulatedCrashException.class);
            assertThatThrownBy(() -> writer.connect(node).read(region, 0, 8))
                    .matches(SimulatedCrashException::isCrash);

            Connection other = sim.connect(node);
            other.write(region, 16, Words.bytes(3));
            assertThat(Words.read(other, region, 0, 3)).containsExactly(1, 0, 3);
        }
    }

    @Test
    void aStopInsideABatchTheNodeWouldRefuseExecutesNothing() {
        try (SimFabric sim = SimFabric.builder().seed(SEED).build()) {
            NodeAddress node = sim.addNode(4096);
            SimClient writer = sim.client("writer").crashAfterVerbs(1);
            Connection c = writer.connect(node);
            RemoteRegion region = c.node().firstRegion();
            Batch refused = new Batch();
            refused.write(region, 0, Words.bytes(1));
            refused.read(region, 4096, 8);
            assertThatThrownBy(() -> c.execute(refused)).matches(SimulatedCrashException::isCrash);
            assertThat(Words.read(sim.connect(node), region, 0)).isZero();
        }
    }

    @Test
    void batchesInFlightWhenTheClientStopsExecuteButFailWithTheCrash() {
        Duration delay = Duration.ofMillis(100);
        try (SimFabric sim = SimFabric.builder().seed(SEED).build()) {
            NodeAddress node = sim.addNode(4096);
            SimClient writer = sim.client("writer", Faults.none().withDelays(1.0, delay, delay)).crashAfterVerbs(2);
            Connection c = writer.connect(node);
            RemoteRegion region = c.node().firstRegion();

            CompletableFuture<BatchResult> inFlight = c.post(write(region, 0, 1));
            Batch stopsInside = write(region, 8, 2);
            stopsInside.write(region, 16, Words.bytes(3));
            CompletableFuture<BatchResult> stopping = c.post(stopsInside);
            CompletableFuture<BatchResult> afterwards = c.post(write(region, 24, 4));

            assertThat(writer.isCrashed()).isTrue();
            assertThat(afterwards).isCompletedExceptionally();
            assertThat(inFlight).isNotDone();
            assertThat(stopping).isNotDone();
            assertThatThrownBy(stopping::join).hasCauseInstanceOf(SimulatedCrashException.class);
            assertThatThrownBy(inFlight::join).hasCauseInstanceOf(SimulatedCrashException.class);
            assertThat(Words.read(sim.connect(node), region, 0, 4)).containsExactly(1, 2, 0, 0);
        }
    }

    private static Batch write(RemoteRegion region, long offset, long value) {
        Batch b = new Batch();
        b.write(region, offset, Words.bytes(value));
        return b;
    }
}
