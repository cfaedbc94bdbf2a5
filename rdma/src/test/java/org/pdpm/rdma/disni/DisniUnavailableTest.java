package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;

/**
 * Where DiSNI cannot run (no libdisni, no RDMA device: this project's CI), both ends of the fabric
 * say so with UNAVAILABLE, name what is missing and point to the tcp fabric, on the first attempt
 * (UnsatisfiedLinkError inside DiSNI) and on every later one (NoClassDefFoundError inside DiSNI).
 */
class DisniUnavailableTest {

    @BeforeAll
    static void onlyWithoutRdma() {
        assumeTrue(DisniNative.rdmaDevices().isEmpty(),
                "this machine has RDMA devices " + DisniNative.rdmaDevices() + "; DisniFabricContractTest covers it");
    }

    @Test
    void connectFailsUnavailableNamingWhatIsMissingEveryTime() {
        try (DisniFabric fabric = new DisniFabric()) {
            assertThat(fabric.name()).isEqualTo("disni");
            for (int attempt = 0; attempt < 3; attempt++) {
                FabricException e = catchThrowableOfType(FabricException.class,
                        () -> fabric.connect(new NodeAddress("127.0.0.1", 7100)));
                assertUnavailable(e, "connect");
            }
        }
        try (DisniFabric another = new DisniFabric()) {
            assertUnavailable(catchThrowableOfType(FabricException.class,
                    () -> another.connect(new NodeAddress("127.0.0.1", 7100))), "connect");
        }
    }

    @Test
    void memoryNodeFailsUnavailableToo() {
        FabricException e = catchThrowableOfType(FabricException.class, () -> DisniMemoryNode.start(
                new InetSocketAddress("127.0.0.1", 0), "node-a", ByteBuffer.allocateDirect(4096)));
        assertUnavailable(e, "serve a memory node");
    }

    private static void assertUnavailable(FabricException e, String role) {
        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(Status.UNAVAILABLE);
        assertThat(e.getMessage())
                .contains("cannot " + role + " on this machine")
                .contains("no RDMA device")
                .contains("rdma-core")
                .containsIgnoringCase("use the tcp fabric instead")
                .contains("docs/disni.md");
        // libdisni is absent here: the first LinkageError is what every attempt reports.
        assertThat(e.getMessage()).contains("the libdisni native library could not be loaded")
                .contains("UnsatisfiedLinkError");
        assertThat(e.getCause()).isInstanceOf(UnsatisfiedLinkError.class);
    }
}
