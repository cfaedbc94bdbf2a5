package org.pdpm.flink.minicluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.rpc.MetadataRpcServer;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.pool.StatePools;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The backend on a remote pool, as a cluster runs it: two memory-node daemons (R = 2) and a
 * metadata server behind its RPC, reached over TCP with the shared secret, configured only through
 * {@code state.backend.pdpm.*}. A job checkpoints, stops with a native savepoint (pins, forks over
 * RPC), resumes and ends with exact counts; the pool holds the state and no pin is left.
 * Budget: about 40 s (the memory nodes msync every flush to their files).
 */
class PdpmRemotePoolITCase {

    private static final String SECRET = "remote-pool-it-secret";

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(1)
                    .build());

    @TempDir
    static Path dir;

    private static final List<MemoryNodeDaemon> NODES = new ArrayList<>();
    private static TcpFabric fabric;
    private static MetadataServer metadata;
    private static MetadataRpcServer rpc;
    private static Configuration config;

    @BeforeAll
    static void startPool() throws Exception {
        List<NodeAddress> addresses = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            MemoryNodeDaemon node = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                    new InetSocketAddress("127.0.0.1", 0), dir.resolve("node" + i + ".pm"), 64L << 20, SECRET, false));
            NODES.add(node);
            addresses.add(new NodeAddress("127.0.0.1", node.boundAddress().getPort()));
        }
        fabric = new TcpFabric(SECRET);
        metadata = MetadataServer.open(fabric, addresses, MetadataServer.Options.defaults(2));
        rpc = MetadataRpcServer.start(metadata, MetadataRpcServer.Config.of(new InetSocketAddress("127.0.0.1", 0),
                SECRET));
        Path secret = Files.writeString(dir.resolve("secret"), SECRET + "\n");
        config = new Configuration();
        config.set(StateBackendOptions.STATE_BACKEND, "pdpm");
        config.setString(PdpmOptions.MEMORY_NODES.key(), addresses.get(0) + ";" + addresses.get(1));
        config.set(PdpmOptions.METADATA_SERVER, "127.0.0.1:" + rpc.boundAddress().getPort());
        config.set(PdpmOptions.SECRET_FILE, secret.toString());
    }

    @AfterAll
    static void stopPool() {
        StatePools.closeAll();
        rpc.close();
        metadata.close();
        fabric.close();
        NODES.forEach(MemoryNodeDaemon::close);
    }

    @Test
    void aJobKeepsItsStateInTheRemotePoolThroughANativeSavepoint() throws Exception {
        CountingJob.reset();
        long events = 6_000;
        long keys = 30;
        JobClient first = CountingJob.start(config, 2, events, keys, 1_500, false, 300, null);
        while (CountingJob.PROCESSED.get() < 1_500) {
            Thread.sleep(20);
        }
        String savepoint = first.stopWithSavepoint(false, dir.resolve("sp").toUri().toString(),
                SavepointFormatType.NATIVE).get();
        assertThat(metadata.pins()).as("the native savepoint pins its epochs").isNotEmpty();

        JobClient second = CountingJob.start(config, 2, events, keys, 20_000, false, 300, savepoint);
        second.getJobExecutionResult().get();
        for (long k = 0; k < keys; k++) {
            assertThat(CountingJob.COUNTS.get(k)).as("count of key %d", k).isEqualTo(events / keys);
        }
        assertThat(metadata.keyCount()).as("keys of the job's state in the remote pool").isGreaterThanOrEqualTo((int) keys);
    }
}
