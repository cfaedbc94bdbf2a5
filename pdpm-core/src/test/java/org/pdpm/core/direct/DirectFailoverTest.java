package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * A memory node dies under load (R = 2, four nodes in two replica groups, in this JVM): the
 * writers take it out of service by a majority of the memory nodes, go on with the other replica
 * of its group, and nothing acknowledged is lost — not a value, not a key in the ordered index.
 * Node 0 is group 0's primary and holds the index; node 1 its backup; node 3 group 1's backup.
 * Budget: about 3 s per victim.
 */
class DirectFailoverTest {

    private static final int WRITERS = 3;
    private static final int KEYS_PER_WRITER = 100;

    @ParameterizedTest(name = "node {0} dies")
    @ValueSource(ints = {0, 1, 3})
    void writesGoOnAndNothingAcknowledgedIsLost(int victim) throws Exception {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                nodes.add(fabric.addNode(4 << 20));
            }
            DirectStore.Builder builder = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2)
                    .limits(new KvLimits(64, 256)).membershipLease(Duration.ofMillis(100));
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean killed = new AtomicBoolean();
            AtomicLong afterKill = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch warm = new CountDownLatch(WRITERS);
            List<Thread> writers = new ArrayList<>();
            List<DirectStore> stores = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                DirectStore store = builder.open();
                stores.add(store);
                int id = w;
                Thread t = new Thread(() -> {
                    try {
                        for (long round = 0; !stop.get(); round++) {
                            for (int i = 0; i < KEYS_PER_WRITER && !stop.get(); i++) {
                                String key = id + "/" + i;
                                boolean wasKilled = killed.get();
                                if (round % 3 == 2 && i % 10 == 0) {
                                    store.delete(b(key));   // deletes and re-creations go through the index
                                    acknowledged.put(key, "");
                                } else {
                                    String value = key + "@" + round;
                                    store.put(b(key), b(value));
                                    acknowledged.put(key, value);
                                }
                                if (wasKilled) {
                                    afterKill.incrementAndGet();
                                }
                            }
                            if (round == 0) {
                                warm.countDown();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        warm.countDown();
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            assertThat(warm.await(30, TimeUnit.SECONDS)).isTrue();
            fabric.removeNode(nodes.get(victim));
            killed.set(true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (afterKill.get() < 1_000 && failure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join(10_000);
            }
            assertThat(failure.get()).as("a writer failed").isNull();
            assertThat(afterKill.get()).as("operations acknowledged after the kill").isGreaterThanOrEqualTo(1_000);
            for (DirectStore s : stores) {
                assertThat(s.outNodes()).as("every writer's view").containsExactly(victim);
            }

            try (DirectStore fresh = builder.open()) {
                assertThat(fresh.outNodes()).containsExactly(victim);
                acknowledged.forEach((k, v) -> assertThat(fresh.get(b(k))).as("a new client reads %s", k)
                        .isEqualTo(v.isEmpty() ? null : b(v)));
                Map<String, String> scanned = new ConcurrentHashMap<>();
                try (KvCursor c = fresh.scan(new byte[0])) {
                    c.forEachRemaining(e -> scanned.put(new String(e.key(), StandardCharsets.UTF_8),
                            new String(e.value(), StandardCharsets.UTF_8)));
                }
                acknowledged.forEach((k, v) -> assertThat(scanned.get(k)).as("the scan's %s", k)
                        .isEqualTo(v.isEmpty() ? null : v));
                fresh.put(b("0/0"), b("after everything"));
                assertThat(fresh.get(b("0/0"))).isEqualTo(b("after everything"));
            }
            stores.forEach(DirectStore::close);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
