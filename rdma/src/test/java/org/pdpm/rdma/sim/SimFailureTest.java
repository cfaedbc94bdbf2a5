package org.pdpm.rdma.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

class SimFailureTest {

    @Test
    void aLostRequestFailsWithTheChosenStatusAndChangesNothing() {
        try (SimFabric sim = SimFabric.builder().seed(3).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection faulty = sim.client("faulty", Faults.none()
                    .withFailures(1.0, Status.REMOTE_OPERATION_ERROR, FailureMode.REQUEST_LOST)).connect(node);
            Connection checker = sim.connect(node);
            RemoteRegion region = checker.node().firstRegion();

            assertStatus(() -> faulty.write(region, 0, Words.bytes(5)), Status.REMOTE_OPERATION_ERROR);
            assertStatus(() -> faulty.fetchAndAdd(region, 8, 1), Status.REMOTE_OPERATION_ERROR);
            assertStatus(() -> faulty.compareAndSwap(region, 16, 0, 9), Status.REMOTE_OPERATION_ERROR);

            assertThat(Words.read(checker, region, 0, 3)).containsExactly(0, 0, 0);
        }
    }

    @Test
    void aLostCompletionFailsButTheBatchExecutedExactlyOnce() {
        try (SimFabric sim = SimFabric.builder().seed(3).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection faulty = sim.client("faulty", Faults.none()
                    .withFailures(1.0, Status.RETRY_EXCEEDED, FailureMode.COMPLETION_LOST)).connect(node);
            Connection checker = sim.connect(node);
            RemoteRegion region = checker.node().firstRegion();

            assertStatus(() -> faulty.write(region, 0, Words.bytes(5)), Status.RETRY_EXCEEDED);
            assertStatus(() -> faulty.fetchAndAdd(region, 8, 1), Status.RETRY_EXCEEDED);
            assertStatus(() -> faulty.compareAndSwap(region, 16, 0, 9), Status.RETRY_EXCEEDED);

            assertThat(Words.read(checker, region, 0, 3)).containsExactly(5, 1, 9);
        }
    }

    @Test
    void whichBatchesFailIsDecidedByTheSeed() {
        List<Integer> first = failedIncrements(11, FailureMode.REQUEST_LOST);
        assertThat(first).hasSizeBetween(20, 100);
        assertThat(failedIncrements(11, FailureMode.REQUEST_LOST)).isEqualTo(first);
        assertThat(failedIncrements(12, FailureMode.REQUEST_LOST)).isNotEqualTo(first);
    }

    @Test
    void lostCompletionsUnderASeededScheduleStillExecuteEveryBatch() {
        assertThat(failedIncrements(11, FailureMode.COMPLETION_LOST))
                .isEqualTo(failedIncrements(11, FailureMode.REQUEST_LOST));
    }

    /**
     * Posts 200 one-FAA batches under a 30 % failure rate and returns the indices that failed,
     * after checking the counter holds exactly the increments that executed.
     */
    private static List<Integer> failedIncrements(long seed, FailureMode mode) {
        try (SimFabric sim = SimFabric.builder().seed(seed).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection faulty = sim.client("faulty", Faults.none().withFailures(0.3, Status.RETRY_EXCEEDED, mode))
                    .connect(node);
            RemoteRegion region = faulty.node().firstRegion();
            List<Integer> failed = new ArrayList<>();
            int batches = 200;
            for (int i = 0; i < batches; i++) {
                try {
                    faulty.fetchAndAdd(region, 0, 1);
                } catch (FabricException e) {
                    assertThat(e.status()).isEqualTo(Status.RETRY_EXCEEDED);
                    failed.add(i);
                }
            }
            long executed = mode == FailureMode.REQUEST_LOST ? batches - failed.size() : batches;
            assertThat(Words.read(sim.connect(node), region, 0)).isEqualTo(executed);
            return failed;
        }
    }

    private static void assertStatus(Runnable call, Status status) {
        assertThatThrownBy(call::run).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(status));
    }
}
