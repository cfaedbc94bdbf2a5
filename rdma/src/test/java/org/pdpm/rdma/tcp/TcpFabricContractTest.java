package org.pdpm.rdma.tcp;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricContractTest;
import org.pdpm.rdma.api.NodeAddress;

/** The fabric contract over a real socket, against a daemon started in this JVM on a free port. */
class TcpFabricContractTest extends FabricContractTest {

    static final String SECRET = "contract-secret";

    @TempDir
    Path dir;

    private MemoryNodeDaemon daemon;

    @Override
    protected Fabric createFabric() throws Exception {
        daemon = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(new InetSocketAddress("127.0.0.1", 0),
                dir.resolve("pm"), REGION_BYTES, SECRET, false));
        return new TcpFabric(SECRET);
    }

    @Override
    protected NodeAddress nodeAddress() {
        return new NodeAddress("127.0.0.1", daemon.boundAddress().getPort());
    }

    @Override
    protected void tearDownNode() throws Exception {
        daemon.close();
        Files.deleteIfExists(dir.resolve("pm"));
    }

    @Override
    protected NodeAddress unusedAddress() {
        try (ServerSocket s = new ServerSocket(0)) {
            return new NodeAddress("127.0.0.1", s.getLocalPort());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
