package org.pdpm.core.direct;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/** The KvStore contract on pDPM-Direct over four in-JVM memory nodes, R = 2 (two replica groups). */
class DirectLocalContractTest extends KvStoreContractTest {

    private LocalFabric fabric;
    private List<NodeAddress> nodes;

    @Override
    protected KvStore openStore() {
        fabric = new LocalFabric();
        nodes = List.of(fabric.addNode(16 << 20), fabric.addNode(16 << 20), fabric.addNode(16 << 20),
                fabric.addNode(16 << 20));
        return DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2)
                .limits(new KvLimits(512, 2048)).open();
    }

    /** A new client on the same memory nodes: everything acknowledged is in them. */
    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        return DirectStore.builder().fabric(fabric).memoryNodes(nodes).open();
    }

    @AfterEach
    void closeFabric() {
        if (fabric != null) {
            fabric.close();
        }
    }
}
