package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/** The daemon's behaviour at its edges, in this JVM (the process-level kills live in the jobs module). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryNodeDaemonTest {

    private static final long SIZE = 1 << 20;

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private MemoryNodeDaemon start(String secret, boolean writeThrough) throws Exception {
        MemoryNodeDaemon d = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                new InetSocketAddress("127.0.0.1", 0), dir.resolve("pm"), SIZE, secret, writeThrough));
        toClose.add(d);
        return d;
    }

    private Connection connect(MemoryNodeDaemon d, String secret) {
        TcpFabric f = new TcpFabric(secret);
        toClose.add(f);
        return f.connect(address(d));
    }

    private static NodeAddress address(MemoryNodeDaemon d) {
        return new NodeAddress("127.0.0.1", d.boundAddress().getPort());
    }

    @Test
    void wrongOrMissingSecretIsRefusedWithAReason() throws Exception {
        MemoryNodeDaemon d = start("s3cret", false);
        assertThatThrownBy(() -> connect(d, "guess")).isInstanceOf(FabricException.class)
                .hasMessageContaining("wrong secret")
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(Status.CONNECTION_REFUSED));
        assertThatThrownBy(() -> connect(d, null)).hasMessageContaining("wrong secret");
        assertThat(connect(d, "s3cret").node().nodeId()).isEqualTo(d.nodeId());
    }

    @Test
    void aNodeWithoutSecretAcceptsAnyClient() throws Exception {
        MemoryNodeDaemon d = start(null, false);
        assertThat(connect(d, "whatever").node().firstRegion().sizeBytes()).isEqualTo(SIZE);
    }

    @Test
    void flushedDataAndIdentitySurviveARestartOnTheSameFile() throws Exception {
        MemoryNodeDaemon d = start("k", false);
        Connection c = connect(d, "k");
        RemoteRegion r = c.node().firstRegion();
        Batch b = new Batch();
        b.write(r, 4096, "persisted".getBytes());
        b.flush(r, 4096, 9);
        c.execute(b);
        String id = d.nodeId();
        d.close();
        assertThatThrownBy(() -> c.read(r, 4096, 9)).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isIn(Status.RETRY_EXCEEDED, Status.FLUSHED));

        MemoryNodeDaemon again = start("k", false);
        Connection c2 = connect(again, "k");
        assertThat(again.nodeId()).isEqualTo(id);
        RemoteRegion r2 = c2.node().firstRegion();
        assertThat(new String(c2.read(r2, 4096, 9))).isEqualTo("persisted");
        // The old rkey is not honoured by the new incarnation unless it happens to be redrawn.
        if (r2.rkey() != r.rkey()) {
            assertThatThrownBy(() -> c2.read(r, 4096, 9)).hasMessageContaining("rkey");
        }
    }

    @Test
    void aDeadNodeFailsInFlightAndLaterRequestsClearly() throws Exception {
        MemoryNodeDaemon d = start(null, true);
        Connection c = connect(d, null);
        RemoteRegion r = c.node().firstRegion();
        c.write(r, 0, new byte[8]);
        d.close();
        assertThatThrownBy(() -> c.read(r, 0, 8)).isInstanceOf(FabricException.class)
                .hasMessageContaining("127.0.0.1:" + d.boundAddress().getPort());
        assertThatThrownBy(() -> new TcpFabric((String) null).connect(address(d)))
                .isInstanceOf(FabricException.class)
                .hasMessageContaining("cannot connect to memory node at 127.0.0.1");
    }

    @Test
    void aClientThatDisconnectsMidBatchChangesNothingAndOthersAreServed() throws Exception {
        MemoryNodeDaemon d = start(null, false);
        Connection good = connect(d, null);
        RemoteRegion r = good.node().firstRegion();

        for (int cut = 1; cut < 40; cut += 3) {
            FrameBuffer frame = new FrameBuffer(128);
            byte[] hello = helloFrame();
            Batch bad = new Batch();
            bad.write(r, 512, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            BatchCodec.encodeBatch(bad, frame);
            try (Socket s = new Socket("127.0.0.1", d.boundAddress().getPort())) {
                OutputStream os = s.getOutputStream();
                os.write(hello);
                s.getInputStream().readNBytes(4);   // start of WELCOME: the handshake is through
                os.write(frame.array(), 0, Math.min(cut, frame.length() - 1));
                os.flush();
            }
        }
        assertThat(good.read(r, 512, 8)).containsOnly(0);
        good.write(r, 512, new byte[] {9, 9, 9, 9, 9, 9, 9, 9});
        assertThat(good.read(r, 512, 8)).containsOnly(9);
    }

    @Test
    void servesManyClientsAtOnce() throws Exception {
        MemoryNodeDaemon d = start(null, false);
        int clients = 24;
        List<Connection> conns = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            conns.add(connect(d, null));
        }
        RemoteRegion r = conns.get(0).node().firstRegion();
        List<CompletableFuture<BatchResult>> all = new ArrayList<>();
        for (int round = 0; round < 50; round++) {
            for (Connection c : conns) {
                Batch b = new Batch();
                b.fetchAndAdd(r, 64, 1);
                all.add(c.post(b));
            }
        }
        for (CompletableFuture<BatchResult> f : all) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertThat(d.sessionCount()).isEqualTo(clients);
        assertThat(conns.get(0).fetchAndAdd(r, 64, 0)).isEqualTo(50L * clients);
    }

    @Test
    void garbageBeforeTheHandshakeIsRefused() throws Exception {
        MemoryNodeDaemon d = start("x", false);
        try (Socket s = new Socket("127.0.0.1", d.boundAddress().getPort())) {
            s.getOutputStream().write(new byte[] {5, 0, 0, 0, 9, 9, 9, 9, 9});
            byte[] reply = s.getInputStream().readAllBytes();
            assertThat(reply.length).isGreaterThan(5);
            assertThat(reply[4]).isEqualTo(WireLayout.REFUSED);
            assertThat(new String(reply, 7, reply.length - 7)).contains("not a pDPM client");
        }
        assertThat(connect(d, "x").node().nodeId()).isEqualTo(d.nodeId());
    }

    static byte[] helloFrame() {
        FrameBuffer hello = new FrameBuffer(64);
        int f = hello.beginFrame();
        hello.putByte(WireLayout.HELLO);
        hello.putInt(WireLayout.MAGIC);
        hello.putShort(WireLayout.VERSION);
        hello.putShort(0);
        hello.endFrame(f);
        return java.util.Arrays.copyOf(hello.array(), hello.length());
    }
}
