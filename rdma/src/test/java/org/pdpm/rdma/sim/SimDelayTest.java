package org.pdpm.rdma.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

class SimDelayTest {

    private final SimFabric sim = SimFabric.builder().seed(7).build();
    private final NodeAddress node = sim.addNode(64 << 10);

    @AfterEach
    void close() {
        sim.close();
    }

    @Test
    void randomlyHeldBackBatchesStillExecuteAndCompleteInPostingOrder() {
        SimClient client = sim.client("jittery", Faults.none().withDelays(0.7, Duration.ZERO, Duration.ofMillis(3)));
        Connection c = client.connect(node);
        RemoteRegion region = c.node().firstRegion();
        int batches = 200;
        List<CompletableFuture<BatchResult>> futures = new CopyOnWriteArrayList<>();
        // Batches whose completion found an earlier batch still incomplete. Checked from a callback,
        // which may run late (a thread joining a future runs its pending callbacks), but never
        // before its own future completed: an earlier one still pending then came out of order.
        List<Integer> overtook = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < batches; i++) {
            Batch b = new Batch();
            b.write(region, 0, Words.bytes(i));
            b.read(region, 0, 8);
            int index = i;
            CompletableFuture<BatchResult> f = c.post(b);
            futures.add(f);
            f.thenRun(() -> {
                if (futures.subList(0, index).stream().anyMatch(earlier -> !earlier.isDone())) {
                    overtook.add(index);
                }
            });
        }
        for (int i = 0; i < batches; i++) {
            // Each batch read what it had just written: nothing from a later batch ran before it.
            assertThat(futures.get(i).join().bytes(1)).isEqualTo(Words.bytes(i));
        }
        assertThat(overtook).isEmpty();
    }

    @Test
    void aHeldBackBatchExecutesLateAndHoldsBackOnlyItsOwnConnection() {
        Duration delay = Duration.ofMillis(300);
        Connection slow = sim.client("slow", Faults.none().withDelays(1.0, delay, delay)).connect(node);
        Connection fast = sim.connect(node);
        RemoteRegion region = fast.node().firstRegion();

        CompletableFuture<BatchResult> late = slow.post(writeBatch(region, 0, 11));
        CompletableFuture<Thread> completedOn = late.thenApply(r -> Thread.currentThread());
        CompletableFuture<BatchResult> behindIt = slow.post(writeBatch(region, 8, 12));
        fast.write(region, 16, Words.bytes(13));

        assertThat(late).isNotDone();
        assertThat(behindIt).isNotDone();
        assertThat(Words.read(fast, region, 0, 3)).containsExactly(0, 0, 13);
        behindIt.join();
        assertThat(late).isCompleted();
        assertThat(completedOn.join()).isNotSameAs(Thread.currentThread());
        assertThat(Words.read(fast, region, 0, 3)).containsExactly(11, 12, 13);
    }

    private static Batch writeBatch(RemoteRegion region, long offset, long value) {
        Batch b = new Batch();
        b.write(region, offset, Words.bytes(value));
        return b;
    }
}
