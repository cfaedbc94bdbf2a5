package org.pdpm.rdma.sim;

import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricContractTest;
import org.pdpm.rdma.api.NodeAddress;

/** With no faults configured the simulated fabric keeps the whole fabric contract. */
class SimFabricContractTest extends FabricContractTest {

    private NodeAddress address;

    @Override
    protected Fabric createFabric() {
        SimFabric f = SimFabric.builder().seed(1).build();
        address = f.addNode(REGION_BYTES);
        return f;
    }

    @Override
    protected NodeAddress nodeAddress() {
        return address;
    }

    @Override
    protected NodeAddress unusedAddress() {
        return new NodeAddress(SimFabric.HOST, 9999);
    }
}
