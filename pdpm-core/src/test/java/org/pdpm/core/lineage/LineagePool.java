package org.pdpm.core.lineage;

import java.util.ArrayList;
import java.util.List;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.direct.DirectStore;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/** In-JVM memory nodes holding one store, pDPM-Direct or pDPM-Central, and its clients. */
abstract class LineagePool implements AutoCloseable {

    final LocalFabric fabric = new LocalFabric();
    final List<NodeAddress> nodes = new ArrayList<>();
    private final List<ConditionalKvStore> clients = new ArrayList<>();

    LineagePool(int nodeCount, long nodeBytes) {
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(fabric.addNode(nodeBytes));
        }
    }

    /** A new client of the store, as another process would open it. */
    final ConditionalKvStore client() {
        ConditionalKvStore c = open();
        clients.add(c);
        return c;
    }

    abstract ConditionalKvStore open();

    @Override
    public void close() {
        clients.forEach(ConditionalKvStore::close);
        fabric.close();
    }

    static LineagePool direct() {
        return new LineagePool(2, 32L << 20) {
            @Override
            ConditionalKvStore open() {
                return DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(1)
                        .limits(new KvLimits(512, 2048)).open();
            }

            @Override
            public String toString() {
                return "direct";
            }
        };
    }

    static LineagePool central() {
        return new LineagePool(2, 32L << 20) {
            private final Coordinator coordinator = Coordinator.open(fabric, nodes, Coordinator.Options.defaults(1));

            @Override
            ConditionalKvStore open() {
                return CentralStore.builder().coordinator(coordinator).open();
            }

            @Override
            public void close() {
                coordinator.close();
                super.close();
            }

            @Override
            public String toString() {
                return "central";
            }
        };
    }
}
