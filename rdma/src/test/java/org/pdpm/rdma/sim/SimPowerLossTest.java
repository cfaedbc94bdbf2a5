package org.pdpm.rdma.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

class SimPowerLossTest {

    private static final int TORN_WORDS = 512;
    private static final long NEW = 1_000_000;

    @Test
    void dropKeepsFlushedWritesAndRevertsEveryOtherWriteToItsDurableValue() {
        try (SimFabric sim = SimFabric.builder().seed(1).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection c = sim.connect(node);
            RemoteRegion region = c.node().firstRegion();
            c.write(region, 0, Words.bytes(1, 2, 3, 4));
            c.flush(region, 0, 32);
            assertThat(sim.unflushedWords(node)).isZero();

            c.write(region, 0, Words.bytes(11, 12, 13, 14));
            c.flush(region, 0, 16);
            c.compareAndSwap(region, 32, 0, 15);
            c.fetchAndAdd(region, 40, 16);
            c.compareAndSwap(region, 48, 99, 17);   // fails: changes nothing, so nothing to lose
            assertThat(sim.unflushedWords(node)).isEqualTo(4);

            assertThat(sim.powerLoss(node, PowerLoss.DROP)).isEqualTo(4);
            assertThat(sim.isUp(node)).isFalse();
            sim.restartNode(node);

            Connection after = sim.connect(node);
            assertThat(Words.read(after, after.node().firstRegion(), 0, 7)).containsExactly(11, 12, 3, 4, 0, 0, 0);
            assertThat(sim.unflushedWords(node)).isZero();
        }
    }

    @Test
    void aFlushMakesEveryWordItOverlapsDurable() {
        try (SimFabric sim = SimFabric.builder().seed(1).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection c = sim.connect(node);
            RemoteRegion region = c.node().firstRegion();
            c.write(region, 0, Words.bytes(1, 2, 3));
            c.flush(region, 7, 2);
            sim.powerLoss(node, PowerLoss.DROP);
            sim.restartNode(node);
            Connection after = sim.connect(node);
            assertThat(Words.read(after, after.node().firstRegion(), 0, 3)).containsExactly(1, 2, 0);
        }
    }

    @Test
    void tearKeepsOrLosesEachUnflushedWordWholeAndFlushedDataAlwaysSurvives() {
        long[] words = tornImage(21);
        long kept = Arrays.stream(words, 0, TORN_WORDS).filter(v -> v >= NEW).count();
        for (int i = 0; i < TORN_WORDS; i++) {
            assertThat(words[i]).as("word %d", i).isIn((long) i, NEW + i);
        }
        assertThat(kept).isBetween(TORN_WORDS / 4L, 3L * TORN_WORDS / 4);
        for (int i = TORN_WORDS; i < words.length; i++) {
            assertThat(words[i]).as("flushed word %d", i).isEqualTo(NEW + i);
        }
    }

    @Test
    void theSameSeedTearsTheSameWords() {
        assertThat(tornImage(21)).isEqualTo(tornImage(21));
        assertThat(tornImage(22)).isNotEqualTo(tornImage(21));
    }

    /**
     * Writes words 0..1023 durably with their index, overwrites all of them with {@code NEW + index}
     * and flushes only the second half, tears with {@code seed} and returns what the node then holds.
     */
    private static long[] tornImage(long seed) {
        try (SimFabric sim = SimFabric.builder().seed(seed).build()) {
            NodeAddress node = sim.addNode(64 << 10);
            Connection c = sim.connect(node);
            RemoteRegion region = c.node().firstRegion();
            long[] old = new long[2 * TORN_WORDS];
            long[] updated = new long[2 * TORN_WORDS];
            for (int i = 0; i < old.length; i++) {
                old[i] = i;
                updated[i] = NEW + i;
            }
            Batch b = new Batch();
            b.write(region, 0, Words.bytes(old));
            b.flush(region, 0, 8L * old.length);
            b.write(region, 0, Words.bytes(updated));
            b.flush(region, 8L * TORN_WORDS, 8L * TORN_WORDS);
            c.execute(b);

            int reverted = sim.powerLoss(node, PowerLoss.TEAR);
            sim.restartNode(node);
            Connection after = sim.connect(node);
            long[] image = Words.read(after, after.node().firstRegion(), 0, old.length);
            assertThat(reverted).isEqualTo(Arrays.stream(image).filter(v -> v < NEW).count());
            return image;
        }
    }

    @Test
    void aWriteThroughNodeLosesNothing() {
        try (SimFabric sim = SimFabric.builder().seed(1).build()) {
            NodeAddress node = sim.addWriteThroughNode(4096);
            Connection c = sim.connect(node);
            RemoteRegion region = c.node().firstRegion();
            c.write(region, 0, Words.bytes(1, 2, 3));
            c.compareAndSwap(region, 24, 0, 4);
            c.fetchAndAdd(region, 32, 5);
            assertThat(sim.unflushedWords(node)).isZero();

            assertThat(sim.powerLoss(node, PowerLoss.TEAR)).isZero();
            sim.restartNode(node);
            Connection after = sim.connect(node);
            assertThat(Words.read(after, after.node().firstRegion(), 0, 5)).containsExactly(1, 2, 3, 4, 5);
        }
    }
}
