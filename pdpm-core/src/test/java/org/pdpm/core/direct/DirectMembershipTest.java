package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.TrafficCounter;
import org.pdpm.rdma.local.LocalFabric;

/**
 * Membership without a server, on three memory nodes: a node is taken out only with the
 * agreement of a majority of them, a client that cannot reach a majority stops serving, rival
 * changes never leave two different views of one version on the nodes, and a change left on a
 * minority is completed by the next reader. Budget: about 3 s.
 */
class DirectMembershipTest {

    private static final Duration MEMBERSHIP_LEASE = Duration.ofMillis(100);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<NodeAddress> threeNodes(LocalFabric fabric) {
        return List.of(fabric.addNode(2 << 20), fabric.addNode(2 << 20), fabric.addNode(2 << 20));
    }

    private static DirectStore.Builder builder(LocalFabric fabric, List<NodeAddress> nodes) {
        return DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(3).limits(new KvLimits(64, 256))
                .membershipLease(MEMBERSHIP_LEASE);
    }

    @Test
    void aMajorityTakesADeadNodeOutAndAMinorityCannot() throws Exception {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = threeNodes(fabric);
            DirectStore a = builder(fabric, nodes).open();
            for (int i = 0; i < 50; i++) {
                a.put(b("k" + i), b("v" + i));
            }

            fabric.removeNode(nodes.get(2));
            a.put(b("k0"), b("after node 2 died"));   // finds node 2 unreachable; nodes 0 and 1 agree it is out
            assertThat(a.outNodes()).containsExactly(2);
            try (DirectStore b = builder(fabric, nodes).open()) {
                assertThat(b.outNodes()).as("a new client learns it from the majority").containsExactly(2);
                assertThat(b.get(b("k0"))).isEqualTo(b("after node 2 died"));
                for (int i = 1; i < 50; i++) {
                    assertThat(b.get(b("k" + i))).isEqualTo(b("v" + i));
                }
            }

            fabric.removeNode(nodes.get(1));
            assertThatThrownBy(() -> a.put(b("k1"), b("with one node of three")))
                    .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("majority");
            Thread.sleep(MEMBERSHIP_LEASE.toMillis() * 2);
            assertThatThrownBy(() -> a.get(b("k1"))).as("its view expired and no majority renews it: it stops serving")
                    .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("majority");
            assertThatThrownBy(() -> builder(fabric, nodes).open()).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("majority");
            a.close();
        }
    }

    @Test
    void aClientWithAStaleViewLearnsTheChangeWithinItsLease() throws Exception {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = threeNodes(fabric);
            DirectStore a = builder(fabric, nodes).open();
            DirectStore idle = builder(fabric, nodes).open();
            a.put(b("k"), b("v"));
            fabric.removeNode(nodes.get(0));
            a.put(b("k"), b("after node 0 died"));
            assertThat(a.outNodes()).containsExactly(0);
            Thread.sleep(MEMBERSHIP_LEASE.toMillis() * 2);
            // Its view is older than the lease by now: refreshed in the background, or by the GET itself.
            assertThat(idle.get(b("k"))).isEqualTo(b("after node 0 died"));
            assertThat(idle.outNodes()).containsExactly(0);
            a.close();
            idle.close();
        }
    }

    @Test
    void rivalChangesNeverLeaveTwoViewsOfOneVersion() throws Exception {
        for (int round = 0; round < 30; round++) {
            try (LocalFabric fabric = new LocalFabric()) {
                List<NodeAddress> nodes = threeNodes(fabric);
                builder(fabric, nodes).open().close();   // formats the pool
                PoolNodes p1 = PoolNodes.connect(fabric, nodes);
                PoolNodes p2 = PoolNodes.connect(fabric, nodes);
                Membership m1 = new Membership(p1, 3, new TrafficCounter());
                Membership m2 = new Membership(p2, 3, new TrafficCounter());
                CyclicBarrier start = new CyclicBarrier(2);
                CompletableFuture<Membership.View> first = CompletableFuture.supplyAsync(() -> {
                    await(start);
                    return m1.takeOut(1);
                });
                CompletableFuture<Membership.View> second = CompletableFuture.supplyAsync(() -> {
                    await(start);
                    return m2.takeOut(2);
                });
                Membership.View v1 = first.join();
                Membership.View v2 = second.join();
                assertThat(v1.isOut(1)).isTrue();
                assertThat(v2.isOut(2)).isTrue();
                assertThat(v1.version()).isNotEqualTo(v2.version());

                Map<Integer, Long> byVersion = new HashMap<>();
                for (long word : words(p1)) {
                    Long other = byVersion.putIfAbsent((int) (word >>> 32), word);
                    assertThat(other == null || other == word).as("round %d: two views of version %d", round,
                            word >>> 32).isTrue();
                }
                Membership.View last = m1.read();
                assertThat(last.outNodes()).containsExactly(1, 2);
                assertThat(last.version()).isEqualTo(3);
                p1.close();
                p2.close();
            }
        }
    }

    @Test
    void aChangeLeftOnAMinorityIsCompletedByTheNextReader() {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = threeNodes(fabric);
            builder(fabric, nodes).open().close();
            try (PoolNodes p = PoolNodes.connect(fabric, nodes)) {
                Membership.View initial = Membership.View.initial();
                Membership.View proposed = initial.without(2);
                // A proposer that died after its CAS reached node 0 only.
                Connection c0 = p.connection(0);
                assertThat(c0.compareAndSwap(p.region(0), DirectLayout.MEMBERSHIP_OFFSET, initial.word(), proposed.word()))
                        .isEqualTo(initial.word());
                Membership m = new Membership(p, 3, new TrafficCounter());
                assertThat(m.read()).isEqualTo(proposed);
                assertThat(words(p)).containsOnly(proposed.word());
            }
        }
    }

    private static List<Long> words(PoolNodes p) {
        List<Long> out = new ArrayList<>();
        for (int n = 0; n < p.size(); n++) {
            byte[] w = p.connection(n).read(p.region(n), DirectLayout.MEMBERSHIP_OFFSET, 8);
            out.add((long) DirectLayout.LONG.get(w, 0));
        }
        return out;
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
