package org.pdpm.rdma.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

class SimNodeFailureTest {

    @Test
    void aKilledNodeFailsEveryVerbAndConnectWithRetryExceeded() {
        try (SimFabric sim = SimFabric.builder().seed(2).build()) {
            NodeAddress node = sim.addNode(4096);
            NodeAddress survivor = sim.addNode(4096);
            Connection c = sim.connect(node);
            Connection s = sim.connect(survivor);
            RemoteRegion region = c.node().firstRegion();

            sim.killNode(node);

            assertThat(sim.isUp(node)).isFalse();
            assertStatus(() -> c.read(region, 0, 8), Status.RETRY_EXCEEDED);
            assertStatus(() -> c.write(region, 0, Words.bytes(1)), Status.RETRY_EXCEEDED);
            assertStatus(() -> sim.connect(node), Status.RETRY_EXCEEDED);
            s.write(s.node().firstRegion(), 0, Words.bytes(2));
            assertThat(Words.read(s, s.node().firstRegion(), 0)).isEqualTo(2);
        }
    }

    @Test
    void aBatchInFlightWhenTheNodeDiesFailsAndChangesNothing() {
        Duration delay = Duration.ofMillis(100);
        try (SimFabric sim = SimFabric.builder().seed(2).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection slow = sim.client("slow", Faults.none().withDelays(1.0, delay, delay)).connect(node);
            RemoteRegion region = slow.node().firstRegion();
            Batch b = new Batch();
            b.write(region, 0, Words.bytes(7));
            CompletableFuture<BatchResult> inFlight = slow.post(b);

            sim.killNode(node);
            sim.restartNode(node);

            assertThatThrownBy(inFlight::join).cause().isInstanceOf(FabricException.class)
                    .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(Status.RETRY_EXCEEDED));
            Connection after = sim.connect(node);
            assertThat(Words.read(after, after.node().firstRegion(), 0)).isZero();
        }
    }

    @Test
    void aRestartedNodeKeepsItsMemoryAndItsIdentityButOnlyNewConnectionsReachIt() {
        try (SimFabric sim = SimFabric.builder().seed(2).build()) {
            NodeAddress node = sim.addNode(4096);
            Connection before = sim.connect(node);
            RemoteRegion oldRegion = before.node().firstRegion();
            before.write(oldRegion, 0, Words.bytes(42));   // never flushed: a process crash keeps it

            sim.killNode(node);
            sim.restartNode(node);

            assertStatus(() -> before.read(oldRegion, 0, 8), Status.RETRY_EXCEEDED);
            Connection after = sim.connect(node);
            RemoteRegion newRegion = after.node().firstRegion();
            assertThat(after.node().nodeId()).isEqualTo(before.node().nodeId());
            assertThat(newRegion.rkey()).isNotEqualTo(oldRegion.rkey());
            assertThat(Words.read(after, newRegion, 0)).isEqualTo(42);
            assertStatus(() -> after.read(oldRegion, 0, 8), Status.REMOTE_ACCESS_ERROR);
        }
    }

    @Test
    void misuseOfNodeControlsIsRefused() {
        try (SimFabric sim = SimFabric.builder().seed(2).build()) {
            NodeAddress node = sim.addNode(4096);
            assertThatThrownBy(() -> sim.restartNode(node)).isInstanceOf(IllegalStateException.class);
            NodeAddress nowhere = new NodeAddress(SimFabric.HOST, 9999);
            assertThatThrownBy(() -> sim.killNode(nowhere)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> sim.client(SimFabric.DEFAULT_CLIENT)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static void assertStatus(Runnable call, Status status) {
        assertThatThrownBy(call::run).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(status));
    }
}
