package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * Formatting and opening pools: of many clients starting together on blank nodes exactly one
 * formats and all end up on the same pool; wrong settings, nodes out of order, another store's
 * nodes and a full table fail with messages naming the problem, and change nothing; deleted keys
 * free their index nodes. Budget: 2 s.
 */
class DirectPoolTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void clientsStartingTogetherOnBlankNodesShareOnePool() throws Exception {
        for (int round = 0; round < 10; round++) {
            try (LocalFabric fabric = new LocalFabric()) {
                List<NodeAddress> nodes = List.of(fabric.addNode(2 << 20), fabric.addNode(2 << 20));
                int clients = 4;
                CyclicBarrier start = new CyclicBarrier(clients);
                ExecutorService pool = Executors.newFixedThreadPool(clients);
                List<CompletableFuture<DirectStore>> opening = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int id = c;
                    opening.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            start.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2)
                                .limits(new KvLimits(64, 256)).open();
                        s.put(b("from " + id), b("client " + id));
                        return s;
                    }, pool));
                }
                List<DirectStore> stores = new ArrayList<>();
                for (CompletableFuture<DirectStore> f : opening) {
                    stores.add(f.join());
                }
                pool.shutdown();
                for (DirectStore s : stores) {
                    Set<String> seen = new HashSet<>();
                    s.scan(b("from ")).forEachRemaining(e -> seen.add(new String(e.value(), StandardCharsets.UTF_8)));
                    assertThat(seen).containsExactlyInAnyOrder("client 0", "client 1", "client 2", "client 3");
                }
                stores.forEach(DirectStore::close);
            }
        }
    }

    @Test
    void wrongSettingsAndForeignNodesFailClearlyAndChangeNothing() {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = List.of(fabric.addNode(2 << 20), fabric.addNode(2 << 20));
            try (DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2)
                    .limits(new KvLimits(64, 256)).open()) {
                s.put(b("k"), b("v"));
            }
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(1).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replication=2");
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(nodes)
                    .limits(new KvLimits(64, 512)).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxValueBytes=256");
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(List.of(nodes.get(1), nodes.get(0))).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool order");
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(List.of(nodes.get(0))).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 memory nodes");
            assertThatThrownBy(() -> DirectStore.builder().replication(4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("replication=4");
            List<NodeAddress> blank = List.of(fabric.addNode(2 << 20));
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(blank)
                    .limits(new KvLimits(70_000, 16)).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes=70000");
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(blank)
                    .limits(new KvLimits(64, 64)).slotsPerGroup(1_000_000).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slotsPerGroup=1000000");
            try (DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(blank).limits(new KvLimits(64, 64)).open()) {
                s.put(b("after refusals"), b("the blank node formats fine"));
                assertThat(s.get(b("after refusals"))).isEqualTo(b("the blank node formats fine"));
            }
            try (DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(nodes).open()) {
                assertThat(s.get(b("k"))).isEqualTo(b("v"));
            }

            List<NodeAddress> three = List.of(fabric.addNode(2 << 20), fabric.addNode(2 << 20), fabric.addNode(2 << 20));
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(three).replication(2).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a multiple of replication=2");

            List<NodeAddress> clover = List.of(fabric.addNode(2 << 20));
            MetadataServer.open(fabric, clover, new MetadataServer.Options(1, 64 << 10, 64, 16 << 10, 0)).close();
            assertThatThrownBy(() -> DirectStore.builder().fabric(fabric).memoryNodes(clover).open())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("something other than a pDPM-Direct pool");
        }
    }

    @Test
    void aFullProbeWindowFailsTheNewKeyAndKeepsTheOthers() {
        try (LocalFabric fabric = new LocalFabric();
             DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(List.of(fabric.addNode(1 << 20)))
                     .limits(new KvLimits(16, 16)).slotsPerGroup(64).open()) {
            List<String> written = new ArrayList<>();
            SpaceExhaustedException full = null;
            for (int i = 0; i < 1000 && full == null; i++) {
                try {
                    s.put(b("key" + i), b("v" + i));
                    written.add("key" + i);
                } catch (SpaceExhaustedException e) {
                    full = e;
                }
            }
            assertThat(full).as("64 slots cannot hold 1000 keys").isNotNull();
            assertThat(full.getMessage()).contains("no free slot").contains("64 slots per group");
            assertThat(written.size()).isGreaterThan(32).isLessThanOrEqualTo(64);
            for (String k : written) {
                assertThat(s.get(b(k))).isEqualTo(b("v" + k.substring(3)));
            }
            s.delete(b(written.get(0)));
            assertThat(s.get(b(written.get(0)))).isNull();
            s.put(b(written.get(0)), b("back"));   // into a freed slot of its window
            assertThat(s.get(b(written.get(0)))).isEqualTo(b("back"));
            assertThat(s.get(b(written.get(1)))).isEqualTo(b("v" + written.get(1).substring(3)));
        }
    }

    /**
     * Keys created and deleted many times over the index's capacity: every deleted key's index node
     * goes back on the free list (it once kept only the last one freed, so the index filled up).
     */
    @Test
    void deletedKeysGiveTheirIndexNodesBack() {
        try (LocalFabric fabric = new LocalFabric();
             DirectStore s = DirectStore.builder().fabric(fabric).memoryNodes(List.of(fabric.addNode(1 << 20)))
                     .limits(new KvLimits(16, 16)).slotsPerGroup(256).open()) {
            for (int round = 0; round < 8; round++) {
                for (int i = 0; i < 100; i++) {
                    s.put(b("r" + round + "/" + i), b("v"));
                }
                for (int i = 0; i < 100; i++) {
                    s.delete(b("r" + round + "/" + i));
                }
            }
            s.put(b("last"), b("v"));
            assertThat(s.get(b("last"))).isEqualTo(b("v"));
        }
    }
}
