package org.pdpm.core.central;

import java.util.ArrayList;
import java.util.List;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/** In-JVM memory nodes with an embedded coordinator, for Central's tests. */
final class CentralPool implements AutoCloseable {

    final LocalFabric fabric = new LocalFabric();
    final List<NodeAddress> nodes = new ArrayList<>();
    final Coordinator.Options options;
    Coordinator coordinator;
    private final List<CentralStore> clients = new ArrayList<>();

    CentralPool(int nodeCount, int replication, long nodeBytes) {
        this(nodeCount, nodeBytes, Coordinator.Options.defaults(replication));
    }

    CentralPool(int nodeCount, long nodeBytes, Coordinator.Options options) {
        this.options = options;
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(fabric.addNode(nodeBytes));
        }
        coordinator = Coordinator.open(fabric, nodes, options);
    }

    CentralStore client() {
        CentralStore c = CentralStore.builder().coordinator(coordinator).open();
        clients.add(c);
        return c;
    }

    /** Stops the coordinator as if it had crashed (its memory is gone) and starts a new one on the same nodes. */
    Coordinator restartCoordinator() {
        coordinator.close();
        coordinator = Coordinator.open(fabric, nodes, options);
        return coordinator;
    }

    @Override
    public void close() {
        clients.forEach(CentralStore::close);
        coordinator.close();
        fabric.close();
    }
}
