package org.pdpm.rdma.disni;

import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricContractTest;
import org.pdpm.rdma.api.NodeAddress;

/**
 * The fabric contract on a real RDMA NIC: a {@link DisniMemoryNode} in this JVM and a
 * {@link DisniFabric} talking to it through the NIC. Runs only where an RDMA device exists and
 * {@code PDPM_DISNI_HOST} names the IP address of an RDMA-capable interface (RoCE or IPoIB);
 * skipped elsewhere, including this project's CI, which has no RDMA hardware.
 */
class DisniFabricContractTest extends FabricContractTest {

    private static final String HOST_VARIABLE = "PDPM_DISNI_HOST";

    private DisniMemoryNode memoryNode;

    @Override
    protected Fabric createFabric() {
        String host = System.getenv(HOST_VARIABLE);
        assumeFalse(DisniNative.rdmaDevices().isEmpty(), "no RDMA device on this machine");
        assumeTrue(host != null && !host.isBlank(),
                "set " + HOST_VARIABLE + " to the IP address of an RDMA-capable interface to run this test");
        memoryNode = DisniMemoryNode.start(new InetSocketAddress(host, 0), "disni-contract",
                ByteBuffer.allocateDirect((int) REGION_BYTES));
        return new DisniFabric();
    }

    @Override
    protected NodeAddress nodeAddress() {
        InetSocketAddress a = memoryNode.address();
        return new NodeAddress(a.getAddress().getHostAddress(), a.getPort());
    }

    @Override
    protected NodeAddress unusedAddress() {
        return new NodeAddress(memoryNode.address().getAddress().getHostAddress(), 1);
    }

    @Override
    protected void tearDownNode() {
        if (memoryNode != null) {
            memoryNode.close();
        }
    }
}
