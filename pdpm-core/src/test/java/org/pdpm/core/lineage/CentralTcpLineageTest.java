package org.pdpm.core.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.rdma.api.NodeAddress;

/**
 * A smoke test over TCP: pDPM-Central clients that reach the coordinator only through its RPC
 * (PUT_IF_ABSENT included) checkpoint, fork and read a pinned point. Budget: under a second.
 */
class CentralTcpLineageTest {

    private static final String SECRET = "lineage-tcp";

    @Test
    void checkpointForkAndPinnedReadsOverTheCoordinatorsRpc() throws Exception {
        LineagePool nodes = new LineagePool(2, 16L << 20) {
            @Override
            ConditionalKvStore open() {
                throw new IllegalStateException("clients of this test go through the RPC");
            }
        };
        try (nodes;
             Coordinator coordinator = Coordinator.open(nodes.fabric, nodes.nodes, Coordinator.Options.defaults(1));
             CoordinatorRpcServer rpc = CoordinatorRpcServer.start(coordinator,
                     CoordinatorRpcServer.Config.of(new InetSocketAddress("127.0.0.1", 0), SECRET));
             RemoteCoordinator remote = new RemoteCoordinator(
                     new NodeAddress("127.0.0.1", rpc.boundAddress().getPort()),
                     RemoteCoordinator.Options.withSecret(SECRET));
             CentralStore client = CentralStore.builder().coordinator(remote).open()) {
            byte[] key = "k".getBytes(StandardCharsets.UTF_8);
            assertThat(client.putIfAbsent(key, new byte[] {1})).isTrue();
            assertThat(client.putIfAbsent(key, new byte[] {2})).isFalse();
            assertThat(client.get(key)).containsExactly(1);
            assertThat(client.stats().putRoundTrips()).as("the RPC plus the coordinator's log and data writes")
                    .isGreaterThanOrEqualTo(3);

            StoreLineages lineages = StoreLineages.over(client);
            int first = lineages.createLineage();
            LineageStore s = lineages.open(first, 1);
            s.put(key, "one".getBytes(StandardCharsets.UTF_8));
            lineages.pin(first, 1, "cp");
            s.advanceEpoch(2);
            s.put(key, "two".getBytes(StandardCharsets.UTF_8));
            int fork = lineages.fork(first, 1);
            LineageStore restored = lineages.open(fork, 1);
            assertThat(restored.get(key)).asString().isEqualTo("one");
            assertThat(s.asOf(first, 1).get(key)).asString().isEqualTo("one");
            assertThat(s.get(key)).asString().isEqualTo("two");
        }
    }
}
