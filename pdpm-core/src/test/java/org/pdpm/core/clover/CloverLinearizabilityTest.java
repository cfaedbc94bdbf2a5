package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
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
 * Clover's single-key operations are linearizable: 4 clients, each a separate compute node with
 * its own cache, on 3 keys, mixed get/put/delete, 500 seeded histories per fabric, every history
 * on a fresh pool. On the simulated fabric every batch may also be held back, so the verbs of
 * concurrent operations interleave. Budget: about 30 s on 2 cores.
 */
class CloverLinearizabilityTest {

    private static final MetadataServer.Options OPTIONS = new MetadataServer.Options(2, 64 << 10, 64, 16 << 10, 0);

    @Test
    void historiesOnTheLocalFabricAreLinearizable() {
        RunSummary summary = LinearizabilityRunner.forClients(() -> {
            LocalFabric fabric = new LocalFabric();
            return new Clients(fabric, List.of(fabric.addNode(1 << 20), fabric.addNode(1 << 20)));
        }).clients(4).keys(3).histories(500).run();
        assertThat(summary.histories()).isEqualTo(500);
    }

    @Test
    void historiesWithHeldBackBatchesAreLinearizable() {
        AtomicLong seeds = new AtomicLong(1);
        RunSummary summary = LinearizabilityRunner.forClients(() -> {
            SimFabric sim = SimFabric.builder().seed(seeds.getAndIncrement())
                    .faults(Faults.none().withDelays(0.3, Duration.ZERO, Duration.ofNanos(200_000))).build();
            return new Clients(sim, List.of(sim.addNode(1 << 20), sim.addNode(1 << 20)));
        }).clients(4).keys(3).histories(500).run();
        assertThat(summary.histories()).isEqualTo(500);
    }

    /** A pool with its metadata server, and one Clover client per history client. */
    private static final class Clients implements ClientFactory {
        private final Fabric fabric;
        private final List<NodeAddress> nodes;
        private final MetadataServer metadata;
        private final List<CloverStore> stores = new ArrayList<>();

        Clients(Fabric fabric, List<NodeAddress> nodes) {
            this.fabric = fabric;
            this.nodes = nodes;
            this.metadata = MetadataServer.open(fabric, nodes, OPTIONS);
        }

        @Override
        public KvStore client(int clientId) {
            CloverStore s = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata).open();
            stores.add(s);
            return s;
        }

        @Override
        public void close() {
            stores.forEach(CloverStore::close);
            metadata.close();
            fabric.close();
        }
    }
}
