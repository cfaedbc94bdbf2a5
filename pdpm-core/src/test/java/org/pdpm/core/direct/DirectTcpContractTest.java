package org.pdpm.core.direct;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The KvStore contract on pDPM-Direct over two tcp memory nodes (daemons in this JVM), R = 2. A
 * reopen is a new client on its own tcp fabric, as another process would open the pool.
 */
class DirectTcpContractTest extends KvStoreContractTest {

    private static final String SECRET = "direct-contract";

    @TempDir
    Path dir;

    private final List<MemoryNodeDaemon> daemons = new ArrayList<>();
    private final List<NodeAddress> nodes = new ArrayList<>();
    private final List<TcpFabric> fabrics = new ArrayList<>();

    @Override
    protected KvStore openStore() throws Exception {
        for (int i = 0; i < 2; i++) {
            MemoryNodeDaemon d = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                    new InetSocketAddress("127.0.0.1", 0), dir.resolve("node" + i + ".pm"), 32L << 20, SECRET, false));
            daemons.add(d);
            nodes.add(new NodeAddress("127.0.0.1", d.boundAddress().getPort()));
        }
        return open().replication(2).limits(new KvLimits(512, 2048)).open();
    }

    private DirectStore.Builder open() {
        TcpFabric fabric = new TcpFabric(SECRET);
        fabrics.add(fabric);
        return DirectStore.builder().fabric(fabric).memoryNodes(nodes);
    }

    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        return open().open();
    }

    @AfterEach
    void stopNodes() {
        fabrics.forEach(TcpFabric::close);
        daemons.forEach(MemoryNodeDaemon::close);
    }
}
