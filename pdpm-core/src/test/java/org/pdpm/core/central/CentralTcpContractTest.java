package org.pdpm.core.central;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The KvStore contract on pDPM-Central over TCP end to end: two tcp memory-node daemons (R = 2), the
 * coordinator behind its RPC server, and the client reaching it only through {@link RemoteCoordinator}.
 */
class CentralTcpContractTest extends KvStoreContractTest {

    private static final String SECRET = "central-contract";

    @TempDir
    Path dir;

    private final List<MemoryNodeDaemon> daemons = new ArrayList<>();
    private final List<NodeAddress> nodes = new ArrayList<>();
    private TcpFabric fabric;
    private Coordinator coordinator;
    private CoordinatorRpcServer rpc;
    private RemoteCoordinator remote;

    @Override
    protected KvStore openStore() throws Exception {
        for (int i = 0; i < 2; i++) {
            MemoryNodeDaemon d = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                    new InetSocketAddress("127.0.0.1", 0), dir.resolve("node" + i + ".pm"), 16L << 20, SECRET, false));
            daemons.add(d);
            nodes.add(new NodeAddress("127.0.0.1", d.boundAddress().getPort()));
        }
        fabric = new TcpFabric(SECRET);
        startCoordinator(0);
        return client();
    }

    private void startCoordinator(int port) throws Exception {
        coordinator = Coordinator.open(fabric, nodes, Coordinator.Options.defaults(2));
        rpc = CoordinatorRpcServer.start(coordinator, CoordinatorRpcServer.Config.of(
                new InetSocketAddress("127.0.0.1", port), SECRET));
    }

    private KvStore client() {
        remote = new RemoteCoordinator(new NodeAddress("127.0.0.1", rpc.boundAddress().getPort()),
                RemoteCoordinator.Options.withSecret(SECRET));
        return CentralStore.builder().coordinator(remote).open();
    }

    /** A new coordinator process, in effect, on the same port and memory-node daemons, and a new client. */
    @Override
    protected KvStore closeAndReopen(KvStore current) throws Exception {
        current.close();
        remote.close();
        int port = rpc.boundAddress().getPort();
        rpc.close();
        coordinator.close();
        startCoordinator(port);
        return client();
    }

    @AfterEach
    void stopAll() {
        if (remote != null) {
            remote.close();
        }
        if (rpc != null) {
            rpc.close();
        }
        if (coordinator != null) {
            coordinator.close();
        }
        if (fabric != null) {
            fabric.close();
        }
        daemons.forEach(MemoryNodeDaemon::close);
    }
}
