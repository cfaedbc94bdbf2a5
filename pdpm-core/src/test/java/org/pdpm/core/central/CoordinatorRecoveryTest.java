package org.pdpm.core.central;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.sim.SimFabric;

/**
 * The coordinator keeps nothing only its memory knows: a new one on the same memory nodes rebuilds
 * index, ordered index, free slots, sequence and membership from them. Also: a dead memory node is
 * taken out durably and writes go on without it; a group's last node is never taken out; a write
 * that failed half-way is settled by the key's next operation; a full pool and pools that are not
 * this pool fail with clear errors. Budget: about 5 s.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoordinatorRecoveryTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void aRestartedCoordinatorRebuildsEveryKeyScanAndFreeSlotFromTheMemoryNodes() {
        Coordinator.Options options = new Coordinator.Options(2, 256, 64, 16);
        try (CentralPool pool = new CentralPool(4, 2 << 20, options)) {
            Random random = new Random(20261126L);
            TreeMap<String, String> model = new TreeMap<>();
            CentralStore store = pool.client();
            for (int round = 0; round < 3; round++) {
                // Churn: about twice the pool's slots are written over the rounds, so freed slots must be reused.
                for (int i = 0; i < 6000; i++) {
                    String key = "k/" + random.nextInt(3000);
                    if (random.nextInt(3) == 0) {
                        store.delete(b(key));
                        model.remove(key);
                    } else {
                        String value = key + "=" + round + "." + i + "x".repeat(random.nextInt(100));
                        store.put(b(key), b(value));
                        model.put(key, value);
                    }
                }
                int before = pool.coordinator.keyCount();
                Coordinator restarted = pool.restartCoordinator();
                assertThat(restarted.keyCount()).as("round %d", round).isEqualTo(before).isEqualTo(model.size());
                assertThat(restarted.repairedSlots()).as("nothing to repair after clean writes").isZero();
                store = pool.client();
                for (Map.Entry<String, String> e : model.entrySet()) {
                    assertThat(s(store.get(b(e.getKey())))).as(e.getKey()).isEqualTo(e.getValue());
                }
                TreeMap<String, String> scanned = new TreeMap<>();
                try (KvCursor c = store.scan(b("k/"))) {
                    while (c.hasNext()) {
                        KvEntry e = c.next();
                        scanned.put(s(e.key()), s(e.value()));
                    }
                }
                assertThat(scanned).isEqualTo(model);
                assertThat(store.get(b("k/never"))).isNull();
            }
        }
    }

    @Test
    void aDeadNodeIsTakenOutForGoodAndWritesGoOnWithTheOtherReplica() {
        SimFabric sim = SimFabric.builder().seed(7).build();
        List<NodeAddress> nodes = List.of(sim.addNode(2 << 20), sim.addNode(2 << 20));
        Coordinator.Options options = new Coordinator.Options(2, 256, 64, 8);
        Coordinator coordinator = Coordinator.open(sim.client("first").asFabric(), nodes, options);
        try {
            CentralStore store = CentralStore.builder().coordinator(coordinator).open();
            for (int i = 0; i < 100; i++) {
                store.put(b("key-" + i), b("before-" + i));
            }
            sim.killNode(nodes.get(1));
            for (int i = 0; i < 100; i++) {
                store.put(b("key-" + i), b("after-" + i));
                store.put(b("new-" + i), b("new-" + i));
            }
            assertThat(coordinator.membership().outNodes()).containsExactly(1);
            assertThat(coordinator.membership().version()).isGreaterThan(1);

            // The node comes back with its stale copies: the decision stands, across a restart too.
            sim.restartNode(nodes.get(1));
            coordinator.close();
            coordinator = Coordinator.open(sim.client("second").asFabric(), nodes, options);
            assertThat(coordinator.membership().outNodes()).containsExactly(1);
            store = CentralStore.builder().coordinator(coordinator).open();
            for (int i = 0; i < 100; i++) {
                assertThat(s(store.get(b("key-" + i)))).isEqualTo("after-" + i);
                assertThat(s(store.get(b("new-" + i)))).isEqualTo("new-" + i);
            }

            // The group's last node is never taken out: its keys wait for it.
            sim.killNode(nodes.get(0));
            CentralStore s2 = store;
            assertThatThrownBy(() -> s2.get(b("key-1"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("last node in service of replica group 0");
            assertThat(coordinator.membership().outNodes()).containsExactly(1);

            // A node that is down and was never taken out stops a restart, with a reason.
            coordinator.close();
            assertThatThrownBy(() -> Coordinator.open(sim.client("third").asFabric(), nodes, options))
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("memory node " + nodes.get(0))
                    .hasMessageContaining("was never taken out of service");
            sim.restartNode(nodes.get(0));
            coordinator = Coordinator.open(sim.client("fourth").asFabric(), nodes, options);
            store = CentralStore.builder().coordinator(coordinator).open();
            assertThat(s(store.get(b("key-99")))).isEqualTo("after-99");
        } finally {
            coordinator.close();
            sim.close();
        }
    }

    @Test
    void writesThatFailedHalfWayAreSettledOnceTheirGroupAnswersAgain() throws Exception {
        SimFabric sim = SimFabric.builder().seed(11).build();
        List<NodeAddress> nodes = List.of(sim.addNode(1 << 20));
        try (Coordinator coordinator = Coordinator.open(sim.client("c").asFabric(), nodes,
                new Coordinator.Options(1, 256, 64, 4))) {
            CentralStore store = CentralStore.builder().coordinator(coordinator).open();
            store.put(b("k"), b("old"));
            store.put(b("other"), b("kept"));
            sim.killNode(nodes.get(0));
            assertThatThrownBy(() -> store.put(b("k"), b("new"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("may or may not have taken effect")
                    .hasMessageContaining("last node in service of replica group 0");
            assertThatThrownBy(() -> store.put(b("fresh"), b("new"))).isInstanceOf(StoreUnavailableException.class);
            assertThatThrownBy(() -> store.delete(b("other"))).isInstanceOf(StoreUnavailableException.class);
            assertThat(coordinator.unsettledKeys()).isEqualTo(3);
            sim.restartNode(nodes.get(0));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (coordinator.unsettledKeys() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(coordinator.unsettledKeys()).as("settled in the background once the node answered").isZero();
            // Nothing reached the node: the old state stands, and every key takes writes again.
            assertThat(s(store.get(b("k")))).isEqualTo("old");
            assertThat(store.get(b("fresh"))).isNull();
            assertThat(s(store.get(b("other")))).isEqualTo("kept");
            // The three log entries the failed writes held are free again: four writes at once go through.
            ExecutorService threads = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> writes = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    int t = i;
                    writes.add(threads.submit(() -> {
                        for (int j = 0; j < 20; j++) {
                            store.put(b("more-" + t + "-" + j), b("v"));
                        }
                    }));
                }
                for (Future<?> f : writes) {
                    f.get(10, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            store.put(b("k"), b("newer"));
            assertThat(s(store.get(b("k")))).isEqualTo("newer");
            assertThat(coordinator.membership().outNodes()).isEmpty();
            assertThat(coordinator.keyCount()).isEqualTo(2 + 80);
        } finally {
            sim.close();
        }
    }

    @Test
    void aFullPoolRefusesNewKeysWithoutChangingAnythingAndADeleteMakesRoom() {
        // 8 KiB nodes: a 4 KiB header, 4 log entries of 256 bytes, then 12 slots.
        try (CentralPool pool = new CentralPool(1, 8 << 10, new Coordinator.Options(1, 256, 64, 4))) {
            CentralStore store = pool.client();
            for (int i = 0; i < 12; i++) {
                store.put(b("key-" + i), b("value-" + i));
            }
            assertThatThrownBy(() -> store.put(b("one too many"), b("v"))).isInstanceOf(SpaceExhaustedException.class)
                    .hasMessageContaining("no free slot: all 12 slots");
            store.put(b("key-3"), b("overwrites still fit"));
            store.delete(b("key-5"));
            store.put(b("one too many"), b("fits now"));
            pool.restartCoordinator();
            CentralStore after = pool.client();
            assertThat(s(after.get(b("one too many")))).isEqualTo("fits now");
            assertThat(s(after.get(b("key-3")))).isEqualTo("overwrites still fit");
            assertThat(after.get(b("key-5"))).isNull();
            assertThatThrownBy(() -> after.put(b("still too many"), b("v"))).isInstanceOf(SpaceExhaustedException.class);
        }
    }

    @Test
    void nodesThatAreNotThisPoolAreRefusedWithAReason() {
        LocalFabric fabric = new LocalFabric();
        try (fabric) {
            List<NodeAddress> nodes = List.of(fabric.addNode(1 << 20), fabric.addNode(1 << 20));
            Coordinator.open(fabric, nodes, Coordinator.Options.defaults(2)).close();
            assertThatThrownBy(() -> Coordinator.open(fabric, List.of(nodes.get(1), nodes.get(0)),
                    Coordinator.Options.defaults(2)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("original order");
            assertThatThrownBy(() -> Coordinator.open(fabric, nodes, Coordinator.Options.defaults(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("formatted with replication=2, not 1");
            NodeAddress blank = fabric.addNode(1 << 20);
            assertThatThrownBy(() -> Coordinator.open(fabric, List.of(nodes.get(0), nodes.get(1), blank, fabric.addNode(1 << 20)),
                    Coordinator.Options.defaults(2)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("are blank and the others hold a pool");

            List<NodeAddress> clover = new ArrayList<>(List.of(fabric.addNode(4 << 20)));
            MetadataServer.open(fabric, clover, new MetadataServer.Options(1, 1 << 20, 1 << 10, 64 << 10, 50)).close();
            assertThatThrownBy(() -> Coordinator.open(fabric, clover, Coordinator.Options.defaults(1)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not hold a pDPM-Central pool");
        }
    }
}
