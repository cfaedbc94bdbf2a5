package org.pdpm.rdma.local;

import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricContractTest;
import org.pdpm.rdma.api.NodeAddress;

class LocalFabricContractTest extends FabricContractTest {

    private NodeAddress address;

    @Override
    protected Fabric createFabric() {
        LocalFabric f = new LocalFabric();
        address = f.addNode(REGION_BYTES);
        return f;
    }

    @Override
    protected NodeAddress nodeAddress() {
        return address;
    }

    @Override
    protected NodeAddress unusedAddress() {
        return new NodeAddress(LocalFabric.HOST, 9999);
    }
}
