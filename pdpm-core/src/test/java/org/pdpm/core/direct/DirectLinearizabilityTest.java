package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvLimits;
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
 * pDPM-Direct's single-key operations are linearizable: 4 clients, each a separate compute node
 * with its own slot cache and lock words, on 3 keys, mixed get/put/delete (deletes and re-creations
 * take the index lock), 500 seeded histories on the local fabric and 100 on the simulated one,
 * every history on a freshly formatted pool of two replicas. On the simulated fabric every batch
 * may also be held back, so the verbs of concurrent operations interleave. A failing history names its seed; replay it with
 * {@code -Dpdpm.lin.seed=N}. Budget: about 6 s + 20 s on a
 * loaded 2-core machine.
 */
class DirectLinearizabilityTest {

    /**
     * Held-back batches cost a thread each on this fabric (its delayed completions run on
     * CompletableFuture's default executor, a thread per task on a 2-core machine), and a Direct
     * operation posts 4 to 10 batches: 100 histories keep this half within the budget.
     */
    private static final int SIM_HISTORIES = 100;

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
        }).clients(4).keys(3).histories(SIM_HISTORIES).run();
        assertThat(summary.histories()).isEqualTo(SIM_HISTORIES);
    }

    /** A fresh pool, and one Direct client per history client. */
    private static final class Clients implements ClientFactory {
        private final Fabric fabric;
        private final DirectStore.Builder builder;
        private final List<DirectStore> stores = new ArrayList<>();

        Clients(Fabric fabric, List<NodeAddress> nodes) {
            this.fabric = fabric;
            this.builder = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2)
                    .limits(new KvLimits(64, 64)).slotsPerGroup(256);
        }

        @Override
        public KvStore client(int clientId) {
            DirectStore s = builder.open();
            stores.add(s);
            return s;
        }

        @Override
        public void close() {
            stores.forEach(DirectStore::close);
            fabric.close();
        }
    }
}
