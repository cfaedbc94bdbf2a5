package org.pdpm.flink.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.pdpm.flink.backend.BackendHarness.checkpoint;
import static org.pdpm.flink.backend.BackendHarness.get;
import static org.pdpm.flink.backend.BackendHarness.put;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.lineage.StoreLineages;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.pool.StatePools;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The backend on remote pDPM-Direct and pDPM-Central pools, configured only through
 * {@code state.backend.pdpm.*}: memory-node daemons over tcp (R = 2), and for Central its
 * coordinator behind its RPC. A checkpoint restores exactly, and the earlier attempt's later
 * writes stay invisible. Budget: a few seconds (the daemons msync every flush to their files).
 */
class PdpmRemoteStorePoolsTest {

    private static final String SECRET = "remote-store-pools";

    @TempDir
    Path dir;

    private final List<AutoCloseable> running = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        StatePools.closeAll();
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
    }

    @Test
    void directOnItsOwnMemoryNodes() throws Exception {
        List<NodeAddress> nodes = memoryNodes();
        Configuration config = secretConfig();
        config.set(PdpmOptions.SYSTEM, PdpmOptions.StoreSystem.DIRECT);
        config.setString(PdpmOptions.MEMORY_NODES.key(), nodes.get(0) + ";" + nodes.get(1));
        checkpointAndRestore(config);
    }

    @Test
    void centralThroughItsCoordinator() throws Exception {
        List<NodeAddress> nodes = memoryNodes();
        TcpFabric fabric = new TcpFabric(SECRET);
        running.add(fabric);
        KvLimits flinkLimits = new KvLimits(StoreLineages.storeKeyBytesFor(256), StoreLineages.storeValueBytesFor(4096));
        Coordinator coordinator = Coordinator.open(fabric, nodes, Coordinator.Options.forLimits(2, flinkLimits));
        running.add(coordinator);
        CoordinatorRpcServer rpc = CoordinatorRpcServer.start(coordinator,
                new CoordinatorRpcServer.Config(new InetSocketAddress("127.0.0.1", 0), SECRET, 64));
        running.add(rpc);
        Configuration config = secretConfig();
        config.set(PdpmOptions.SYSTEM, PdpmOptions.StoreSystem.CENTRAL);
        config.set(PdpmOptions.COORDINATOR, "127.0.0.1:" + rpc.boundAddress().getPort());
        checkpointAndRestore(config);
    }

    private void checkpointAndRestore(Configuration config) throws Exception {
        try (BackendHarness harness = new BackendHarness(
                new PdpmStateBackend().configure(config, getClass().getClassLoader()))) {
            JobID job = new JobID();
            AbstractKeyedStateBackend<Integer> first = harness.open(job, new KeyGroupRange(0, 9), List.of());
            for (int k = 0; k < 40; k++) {
                put(first, k, "v" + k);
            }
            KeyedStateHandle chk = checkpoint(first, 1);
            put(first, 3, "after the checkpoint");
            ((PdpmKeyedStateBackend<Integer>) first).flushWrites();

            AbstractKeyedStateBackend<Integer> restored = harness.open(job, chk);
            for (int k = 0; k < 40; k++) {
                assertThat(get(restored, k)).isEqualTo("v" + k);
            }
            put(restored, 3, "restored");
            assertThat(get(restored, 3)).isEqualTo("restored");
            restored.dispose();
            first.dispose();
            chk.discardState();
        }
    }

    private List<NodeAddress> memoryNodes() throws Exception {
        List<NodeAddress> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            MemoryNodeDaemon d = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                    new InetSocketAddress("127.0.0.1", 0), dir.resolve("node" + i + ".pm"), 64L << 20, SECRET, false));
            running.add(d);
            nodes.add(new NodeAddress("127.0.0.1", d.boundAddress().getPort()));
        }
        return nodes;
    }

    private Configuration secretConfig() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), SECRET + "\n");
        Configuration config = new Configuration();
        config.set(PdpmOptions.SECRET_FILE, secret.toString());
        return config;
    }
}
