package org.pdpm.core.clover;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/** The KvStore contract on Clover over two tcp memory nodes (daemons in this JVM), R = 2. */
class CloverTcpContractTest extends KvStoreContractTest {

    private static final String SECRET = "clover-contract";

    @TempDir
    Path dir;

    private static final MetadataServer.Options OPTIONS = new MetadataServer.Options(2, 1 << 20, 1 << 16, 256 << 10, 50);

    private final List<MemoryNodeDaemon> daemons = new ArrayList<>();
    private final List<NodeAddress> nodes = new ArrayList<>();
    private TcpFabric fabric;
    private MetadataServer metadata;
    private CloverStore store;

    @Override
    protected KvStore openStore() throws Exception {
        for (int i = 0; i < 2; i++) {
            MemoryNodeDaemon d = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                    new InetSocketAddress("127.0.0.1", 0), dir.resolve("node" + i + ".pm"), 64L << 20, SECRET, false));
            daemons.add(d);
            nodes.add(new NodeAddress("127.0.0.1", d.boundAddress().getPort()));
        }
        fabric = new TcpFabric(SECRET);
        metadata = MetadataServer.open(fabric, nodes, OPTIONS);
        store = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata).open();
        return store;
    }

    /** A new metadata server and client over the same memory-node daemons. */
    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        metadata.close();
        metadata = MetadataServer.open(fabric, nodes, OPTIONS);
        store = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata).open();
        return store;
    }

    @AfterEach
    void stopNodes() {
        if (store != null) {
            store.close();
        }
        if (metadata != null) {
            metadata.close();
        }
        if (fabric != null) {
            fabric.close();
        }
        daemons.forEach(MemoryNodeDaemon::close);
    }
}
