package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/** Clients of one node share one socket: counted apart, closed apart, replaced when it breaks. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpSharedConnectionTest {

    @TempDir
    Path dir;

    private MemoryNodeDaemon daemon;
    private NodeAddress address;
    private TcpFabric fabric;

    @BeforeEach
    void start() throws Exception {
        daemon = startDaemon(0);
        address = new NodeAddress("127.0.0.1", daemon.boundAddress().getPort());
        fabric = new TcpFabric((String) null);
    }

    private MemoryNodeDaemon startDaemon(int port) throws Exception {
        return MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(new InetSocketAddress("127.0.0.1", port),
                dir.resolve("pm"), 1 << 20, null, false));
    }

    @AfterEach
    void stop() {
        fabric.close();
        daemon.close();
    }

    @Test
    void clientsOfOneNodeShareOneSocketAndCountTheirOwnTraffic() throws Exception {
        Connection a = fabric.connect(address);
        Connection b = fabric.connect(address);
        RemoteRegion region = a.node().firstRegion();

        a.write(region, 0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertThat(b.read(region, 0, 8)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        b.read(region, 0, 8);

        awaitSessions(1);
        assertThat(a.stats().roundTrips()).isEqualTo(1);
        assertThat(b.stats().roundTrips()).isEqualTo(2);
    }

    @Test
    void closingOneClientFailsOnlyItsOwnBatchesAndKeepsTheSocketForTheOthers() throws Exception {
        Connection a = fabric.connect(address);
        Connection b = fabric.connect(address);
        RemoteRegion region = a.node().firstRegion();
        // Hold the shared reader in one of b's callbacks, so that a's READ stays in flight. A callback
        // attached after the completion arrived runs here instead: try again until it ran there.
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> held = null;
        for (int attempt = 0; attempt < 100 && held == null; attempt++) {
            Batch first = new Batch();
            first.read(region, 0, 8);
            CompletableFuture<Void> f = b.post(first).thenRun(() -> {
                if (Thread.currentThread().getName().startsWith("pdpm-tcp-reader")) {
                    awaitQuietly(release);
                }
            });
            if (!f.isDone()) {
                // The reader runs it, now or before it delivers anything posted later.
                held = f;
            }
        }
        assertThat(held).as("a callback of b held on the reader thread").isNotNull();
        Batch read = new Batch();
        read.read(region, 0, 8);
        CompletableFuture<BatchResult> fromA = a.post(read);
        a.close();
        release.countDown();
        held.get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> fromA.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(FabricException.Status.FLUSHED));
        assertThat(b.fetchAndAdd(region, 64, 1)).isZero();
        assertThatThrownBy(() -> a.read(region, 0, 8)).isInstanceOf(FabricException.class)
                .hasMessageContaining("was closed");
        awaitSessions(1);

        b.close();
        awaitSessions(0);
    }

    @Test
    void aBrokenSharedSocketIsReplacedAtTheNextConnect() throws Exception {
        Connection before = fabric.connect(address);
        RemoteRegion region = before.node().firstRegion();
        before.fetchAndAdd(region, 0, 5);
        daemon.close();
        daemon = startDaemon(address.port());

        assertThatThrownBy(() -> before.read(region, 0, 8)).isInstanceOf(FabricException.class);
        Connection after = fabric.connect(address);
        // The PM file outlived the daemon: the word kept its value (the restarted node has a new rkey).
        RemoteRegion again = after.node().firstRegion();
        assertThat(after.fetchAndAdd(again, 0, 0)).isEqualTo(5);
        before.close();
        assertThat(after.fetchAndAdd(again, 0, 0)).isEqualTo(5);
    }

    @Test
    void unsharedOptionsGiveEveryClientASocketOfItsOwn() throws Exception {
        try (TcpFabric own = new TcpFabric(new TcpFabric.Options(null, Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ZERO, true).unshared())) {
            Connection a = own.connect(address);
            Connection b = own.connect(address);
            a.read(a.node().firstRegion(), 0, 8);
            b.read(b.node().firstRegion(), 0, 8);
            awaitSessions(2);
            a.close();
            awaitSessions(1);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitSessions(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.sessionCount() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(daemon.sessionCount()).isEqualTo(expected);
    }
}
