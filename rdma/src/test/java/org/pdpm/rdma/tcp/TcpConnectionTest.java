package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * The client's pipelining paths: callbacks that post, waiters that read their own answers, and the
 * guard against blocking on the thread that delivers completions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpConnectionTest {

    @TempDir
    Path dir;

    private MemoryNodeDaemon daemon;
    private TcpFabric fabric;
    private Connection conn;
    private RemoteRegion region;

    @BeforeEach
    void start() throws Exception {
        daemon = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(new InetSocketAddress("127.0.0.1", 0),
                dir.resolve("pm"), 1 << 20, null, false));
        fabric = new TcpFabric((String) null);
        conn = fabric.connect(new NodeAddress("127.0.0.1", daemon.boundAddress().getPort()));
        region = conn.node().firstRegion();
    }

    @AfterEach
    void stop() {
        fabric.close();
        daemon.close();
    }

    @Test
    void callbacksThatPostKeepManyRequestsInFlightAndLoseNone() throws Exception {
        int chains = 64;
        int perChain = 300;
        AtomicInteger completed = new AtomicInteger();
        CountDownLatch done = startChains(chains, perChain, completed);
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(completed.get()).isEqualTo(chains * perChain);
        for (int c = 0; c < chains; c++) {
            assertThat(conn.fetchAndAdd(region, 8L * c, 0)).isEqualTo(perChain);
        }
    }

    /** Adds 1 to word {@code c}, {@code left} times, each add posted by the previous one's callback. */
    /** Starts {@code chains} callback chains of {@code perChain} FAAs each; the latch counts the finished chains. */
    private CountDownLatch startChains(int chains, int perChain, AtomicInteger completed) {
        CountDownLatch done = new CountDownLatch(chains);
        for (int c = 0; c < chains; c++) {
            chain(c, perChain, completed, done);
        }
        return done;
    }

    private void chain(int c, int left, AtomicInteger completed, CountDownLatch done) {
        Batch b = new Batch(1);
        b.fetchAndAdd(region, 8L * c, 1);
        conn.post(b).whenComplete((r, e) -> {
            if (e != null) {
                done.countDown();
                return;
            }
            completed.incrementAndGet();
            if (left > 1) {
                chain(c, left - 1, completed, done);
            } else {
                done.countDown();
            }
        });
    }

    @Test
    void blockingInsideACompletionCallbackIsRefusedNotDeadlocked() throws Exception {
        Batch b = new Batch();
        b.read(region, 0, 8);
        // A callback attached right after posting runs on the reader thread unless the completion won
        // the race; try until it has run there once.
        for (int attempt = 0; attempt < 100; attempt++) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<String> thread = new AtomicReference<>();
            conn.post(b).thenAccept(r -> {
                thread.set(Thread.currentThread().getName());
                try {
                    conn.read(region, 0, 8);
                } catch (Throwable t) {
                    failure.set(t);
                }
            }).get(10, TimeUnit.SECONDS);
            if (thread.get().startsWith("pdpm-tcp-reader")) {
                assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("post instead");
                assertThat(conn.read(region, 0, 8)).hasSize(8);
                return;
            }
            assertThat(failure.get()).isNull();
        }
        throw new AssertionError("no callback ran on the reader thread in 100 attempts");
    }

    @Test
    void waitersReadTheirOwnAnswersWhileCallbacksKeepOthersInFlight() throws Exception {
        int chains = 8;
        int perChain = 2_000;
        int waiters = 4;
        int perWaiter = 2_000;
        AtomicInteger completed = new AtomicInteger();
        CountDownLatch done = startChains(chains, perChain, completed);
        AtomicInteger collectedByWaiter = new AtomicInteger();
        List<CompletableFuture<Void>> threads = new ArrayList<>();
        for (int w = 0; w < waiters; w++) {
            long word = 8L * (chains + w);
            threads.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perWaiter; i++) {
                    Batch b = new Batch(1);
                    b.fetchAndAdd(region, word, 1);
                    CompletableFuture<BatchResult> posted = conn.postAwaited(b);
                    Thread me = Thread.currentThread();
                    if (!posted.isDone()) {
                        posted.thenRun(() -> {
                            if (Thread.currentThread() == me) {
                                collectedByWaiter.incrementAndGet();
                            }
                        });
                    }
                    assertThat(conn.await(posted).oldValue(0)).isEqualTo(i);
                }
            }, runnable -> new Thread(runnable, "waiter-" + word).start()));
        }
        CompletableFuture.allOf(threads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();

        assertThat(completed.get()).isEqualTo(chains * perChain);
        for (int c = 0; c < chains; c++) {
            assertThat(conn.fetchAndAdd(region, 8L * c, 0)).isEqualTo(perChain);
        }
        for (int w = 0; w < waiters; w++) {
            assertThat(conn.fetchAndAdd(region, 8L * (chains + w), 0)).isEqualTo(perWaiter);
        }
        // The point of the path: waiters collect answers themselves instead of being handed them.
        assertThat(collectedByWaiter.get()).isPositive();
    }

    @Test
    void aCallbackRunByAWaiterThatReadsIsRefusedABlockingWaitToo() throws Exception {
        Batch b = new Batch();
        b.read(region, 0, 8);
        Thread me = Thread.currentThread();
        // The waiter below delivers the async batch's completion when it reads that answer itself;
        // try until it has.
        for (int attempt = 0; attempt < 1_000; attempt++) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            CompletableFuture<Void> callback = conn.post(b).thenAccept(r -> {
                ranOn.set(Thread.currentThread());
                try {
                    conn.read(region, 0, 8);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            assertThat(conn.read(region, 0, 8)).hasSize(8);
            callback.get(10, TimeUnit.SECONDS);
            if (ranOn.get() == me && failure.get() != null) {
                assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("post instead");
                return;
            }
        }
        throw new AssertionError("the waiter never delivered another batch's completion in 1,000 attempts");
    }
}
