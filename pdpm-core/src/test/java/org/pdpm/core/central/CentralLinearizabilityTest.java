package org.pdpm.core.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.linearizability.ClientFactory;
import org.pdpm.core.linearizability.LinearizabilityRunner;
import org.pdpm.core.linearizability.RunSummary;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.sim.Faults;
import org.pdpm.rdma.sim.SimFabric;

/**
 * pDPM-Central's single-key operations are linearizable: 4 clients on 3 keys, mixed get/put/delete,
 * 500 seeded histories per fabric, each on a fresh pool (R = 2) with its own coordinator. On the
 * simulated fabric the coordinator's batches may also be held back, so the verbs of operations on
 * different keys interleave. The runner prints the failing seed. Budget: about 25 s on 2 cores.
 */
class CentralLinearizabilityTest {

    private static final Coordinator.Options OPTIONS = new Coordinator.Options(2, 256, 64, 8);

    @Test
    void historiesOnTheLocalFabricAreLinearizable() {
        RunSummary summary = LinearizabilityRunner.forClients(() -> {
            LocalFabric fabric = new LocalFabric();
            return new Clients(fabric, List.of(fabric.addNode(256 << 10), fabric.addNode(256 << 10)));
        }).clients(4).keys(3).histories(500).run();
        assertThat(summary.histories()).isEqualTo(500);
    }

    @Test
    void historiesWithHeldBackBatchesAreLinearizable() {
        AtomicLong seeds = new AtomicLong(1);
        RunSummary summary = LinearizabilityRunner.forClients(() -> {
            SimFabric sim = SimFabric.builder().seed(seeds.getAndIncrement())
                    .faults(Faults.none().withDelays(0.3, Duration.ZERO, Duration.ofNanos(200_000))).build();
            return new Clients(sim, List.of(sim.addNode(256 << 10), sim.addNode(256 << 10)));
        }).clients(4).keys(3).histories(500).run();
        assertThat(summary.histories()).isEqualTo(500);
    }

    /** A pool with its coordinator; each history client is a {@link CentralStore} of its own. */
    private static final class Clients implements ClientFactory {
        private final Fabric fabric;
        private final Coordinator coordinator;

        Clients(Fabric fabric, List<NodeAddress> nodes) {
            this.fabric = fabric;
            this.coordinator = Coordinator.open(fabric, nodes, OPTIONS);
        }

        @Override
        public KvStore client(int clientId) {
            return CentralStore.builder().coordinator(coordinator).open();
        }

        @Override
        public void close() {
            coordinator.close();
            fabric.close();
        }
    }
}
