package org.pdpm.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.rpc.RawFrames.frame;
import static org.pdpm.core.rpc.RawFrames.le;
import static org.pdpm.core.rpc.RawFrames.readToEnd;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.central.CoordinatorService;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * pDPM-Central over {@link RemoteCoordinator}: every call and its cost, errors with their types,
 * refused handshakes, garbage and oversized frames (which close their connection and execute
 * nothing), and a coordinator restarted on the same port. Budget: about 10 s.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoordinatorRpcTest {

    private static final String SECRET = "coordinator-rpc-test";

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** In-JVM memory nodes, an embedded coordinator and its RPC server. */
    private static final class Served implements AutoCloseable {
        final LocalFabric fabric = new LocalFabric();
        final List<NodeAddress> nodes = new ArrayList<>();
        final Coordinator.Options options;
        Coordinator coordinator;
        CoordinatorRpcServer rpc;
        int port;
        final List<AutoCloseable> opened = new ArrayList<>();

        Served(int nodeCount, long nodeBytes, Coordinator.Options options) throws Exception {
            this.options = options;
            for (int i = 0; i < nodeCount; i++) {
                nodes.add(fabric.addNode(nodeBytes));
            }
            start();
        }

        void start() throws Exception {
            coordinator = Coordinator.open(fabric, nodes, options);
            rpc = CoordinatorRpcServer.start(coordinator, CoordinatorRpcServer.Config.of(
                    new InetSocketAddress("127.0.0.1", port), SECRET));
            port = rpc.boundAddress().getPort();
        }

        void stop() {
            rpc.close();
            coordinator.close();
        }

        NodeAddress address() {
            return new NodeAddress("127.0.0.1", port);
        }

        RemoteCoordinator remote(String secret) {
            RemoteCoordinator r = new RemoteCoordinator(address(), RemoteCoordinator.Options.withSecret(secret));
            opened.add(r);
            return r;
        }

        CentralStore client() {
            return CentralStore.builder().coordinator(remote(SECRET)).open();
        }

        @Override
        public void close() throws Exception {
            for (AutoCloseable c : opened) {
                c.close();
            }
            stop();
            fabric.close();
        }
    }

    @Test
    void everyCallAnswersAsTheEmbeddedCoordinatorDoesAndCarriesItsCost() throws Exception {
        try (Served s = new Served(2, 8 << 20, Coordinator.Options.defaults(2))) {
            RemoteCoordinator remote = s.remote(SECRET);
            CoordinatorService.Info info = remote.info();
            assertThat(info).isEqualTo(s.coordinator.info());
            assertThat(info.limits().maxKeyBytes()).isEqualTo(512);

            CentralStore store = CentralStore.builder().coordinator(remote).open();
            for (int i = 0; i < 600; i++) {
                store.put(b(String.format("key-%04d", i)), b("value-" + i));
            }
            store.put(b("empty"), new byte[0]);
            store.delete(b("key-0007"));
            assertThat(store.get(b("key-0599"))).isEqualTo(b("value-599"));
            assertThat(store.get(b("key-0007"))).isNull();
            assertThat(store.get(b("empty"))).isEmpty();
            int scanned = 0;
            try (KvCursor c = store.scan(b("key-"))) {
                while (c.hasNext()) {
                    assertThat(c.next().key()).isNotEqualTo(b("key-0007"));
                    scanned++;
                }
            }
            assertThat(scanned).as("three pages of 256").isEqualTo(599);

            KvStats before = store.stats();
            store.put(b("key-0001"), b("again"));
            assertThat(store.get(b("key-0001"))).isEqualTo(b("again"));
            KvStats delta = store.stats().minus(before);
            assertThat(delta.putRoundTrips()).as("RPC + log xR + slot xR").isEqualTo(3);
            assertThat(delta.getRoundTrips()).as("RPC + READ").isEqualTo(2);
            assertThat(delta.verbs()).as("the coordinator's verbs, reported through the wire").isEqualTo(4 * 2 + 1);

            CoordinatorService.Page page = remote.scan(b("key-"), b("key-0100"), 5);
            assertThat(page.entries()).hasSize(5);
            assertThat(page.more()).isTrue();
            assertThat(page.entries().get(0).key()).isEqualTo(b("key-0101"));
            assertThat(page.cost().roundTrips()).as("one READ round trip for the page").isEqualTo(1);
            assertThat(remote.membership()).isEqualTo(s.coordinator.membership());
            assertThatThrownBy(() -> remote.scan(b(""), null, CoordinatorRpcLayout.MAX_SCAN_LIMIT + 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAX_SCAN_LIMIT=256");
        }
    }

    @Test
    void aWrongSecretOrAnotherVersionIsRefusedWithAReason() throws Exception {
        try (Served s = new Served(1, 2 << 20, Coordinator.Options.defaults(1))) {
            assertThatThrownBy(() -> s.remote("not-the-secret").info())
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("coordinator at " + s.address())
                    .hasMessageContaining("refused this client: wrong secret")
                    .hasMessageContaining("could not learn the pool's bounds");
            assertThatThrownBy(() -> s.remote(null).get(b("k"))).hasMessageContaining("wrong secret");
            try (Socket socket = new Socket("127.0.0.1", s.port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(hello(SECRET, 9));
                byte[] refused = readToEnd(socket.getInputStream());
                assertThat(refused[4]).as("REFUSED").isEqualTo(CoordinatorRpcLayout.REFUSED);
                assertThat(new String(refused, 4 + 3, refused.length - 4 - 3, StandardCharsets.UTF_8))
                        .isEqualTo("protocol version 9 is not served; this coordinator speaks version "
                                + CoordinatorRpcLayout.VERSION);
            }
            try (Socket socket = new Socket("127.0.0.1", s.port)) {
                socket.setSoTimeout(10_000);
                // A metadata-server client knocking at the coordinator's door.
                socket.getOutputStream().write(RawFrames.hello(SECRET));
                byte[] refused = readToEnd(socket.getInputStream());
                assertThat(new String(refused, 4 + 3, refused.length - 4 - 3, StandardCharsets.UTF_8))
                        .isEqualTo("not a pDPM-Central client (expected HELLO)");
            }
            assertThat(s.remote(SECRET).info().poolId()).isEqualTo(s.coordinator.poolId());
            assertThat(s.rpc.callsExecuted()).isEqualTo(1);
        }
    }

    @Test
    void errorsArriveWithTheirTypeAndMessageAndTheConnectionServesOn() throws Exception {
        // 8 KiB nodes: 12 slots of 256 bytes; keys up to 64 bytes, values up to 160.
        try (Served s = new Served(1, 8 << 10, new Coordinator.Options(1, 256, 64, 4))) {
            CentralStore store = s.client();
            RemoteCoordinator raw = s.remote(SECRET);
            assertThatThrownBy(() -> raw.put(new byte[65], b("v"))).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxKeyBytes=64");
            assertThatThrownBy(() -> raw.put(b("k"), new byte[161])).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxValueBytes=160");
            assertThatThrownBy(() -> raw.get(new byte[0])).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxKeyBytes=64");
            assertThatThrownBy(() -> raw.put(new byte[CoordinatorRpcLayout.MAX_KEY_BYTES + 1], b("v")))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAX_KEY_BYTES=65535");
            for (int i = 0; i < 12; i++) {
                store.put(b("k" + i), b("v" + i));
            }
            assertThatThrownBy(() -> store.put(b("one too many"), b("v")))
                    .isExactlyInstanceOf(SpaceExhaustedException.class).hasMessageContaining("no free slot");
            assertThat(store.get(b("k3"))).isEqualTo(b("v3"));
            assertThat(raw.get(b("one too many")).value()).isNull();
            assertThat(s.rpc.sessionCount()).as("errors are answers: no connection was dropped").isEqualTo(2);
        }
    }

    @Test
    void aStoppedCoordinatorIsNamedAndARestartedOneIsFoundAgain() throws Exception {
        try (Served s = new Served(2, 4 << 20, Coordinator.Options.defaults(2))) {
            CentralStore store = s.client();
            store.put(b("k"), b("before"));
            s.stop();
            assertThatThrownBy(() -> store.put(b("k"), b("while down"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("coordinator at " + s.address() + " is unreachable")
                    .hasMessageContaining("could not put a key");
            s.start();
            assertThat(store.get(b("k"))).isEqualTo(b("before"));
            store.put(b("k"), b("after"));
            assertThat(s.client().get(b("k"))).isEqualTo(b("after"));
        }
    }

    @Test
    void aFrameOverItsBoundClosesTheConnection() throws Exception {
        try (Served s = new Served(1, 2 << 20, Coordinator.Options.defaults(1))) {
            try (Socket socket = new Socket("127.0.0.1", s.port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(le(4).putInt(CoordinatorRpcLayout.MAX_HELLO_BYTES + 1).array());
                assertThat(readToEnd(socket.getInputStream())).isEmpty();
            }
            try (Socket socket = new Socket("127.0.0.1", s.port)) {
                socket.setSoTimeout(10_000);
                handshake(socket);
                socket.getOutputStream().write(le(4).putInt(CoordinatorRpcLayout.MAX_BODY_BYTES + 1).array());
                assertThat(readToEnd(socket.getInputStream())).isEmpty();
            }
            try (Socket socket = new Socket("127.0.0.1", s.port)) {
                socket.setSoTimeout(10_000);
                handshake(socket);
                // A PUT whose value claims more than MAX_VALUE_BYTES.
                byte[] body = le(2 + 2 + 1 + 4).put(CoordinatorRpcLayout.CALL).put(CoordinatorRpcLayout.PUT)
                        .putShort((short) 1).put((byte) 'k').putInt(CoordinatorRpcLayout.MAX_VALUE_BYTES + 1).array();
                socket.getOutputStream().write(frame(body));
                assertThat(readToEnd(socket.getInputStream())).isEmpty();
            }
            assertThat(s.rpc.callsExecuted()).isZero();
            assertThat(s.remote(SECRET).get(b("k")).value()).isNull();
        }
    }

    @Test
    void garbageFramesNeitherCrashTheServerNorChangeItsState() throws Exception {
        long seed = Long.getLong("pdpm.fuzz.seed", 20261126L);
        Random random = new Random(seed);
        try (Served s = new Served(1, 2 << 20, Coordinator.Options.defaults(1))) {
            CentralStore store = s.client();
            store.put(b("before"), b("garbage"));
            int keys = s.coordinator.keyCount();
            long executed = s.rpc.callsExecuted();
            for (int i = 0; i < 2_000; i++) {
                sendGarbage(s.port, random);
                if (i % 200 == 0) {
                    assertThat(store.get(b("before"))).as("seed=%d", seed).isEqualTo(b("garbage"));
                    executed += 1;
                }
            }
            assertThat(s.rpc.callsExecuted()).as("seed=%d: no garbage call was executed", seed).isEqualTo(executed);
            assertThat(s.coordinator.keyCount()).as("seed=%d", seed).isEqualTo(keys);
            store.put(b("after"), b("fine"));
            assertThat(s.client().get(b("after"))).isEqualTo(b("fine"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.rpc.sessionCount() > 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(s.rpc.sessionCount()).as("garbage sessions were closed").isLessThanOrEqualTo(2);
        }
    }

    // ------------------------------------------------------------------ raw frames

    private static byte[] hello(String secret, int version) {
        byte[] sec = secret.getBytes(StandardCharsets.UTF_8);
        return frame(le(9 + sec.length).put(CoordinatorRpcLayout.HELLO).putInt(CoordinatorRpcLayout.MAGIC)
                .putShort((short) version).putShort((short) sec.length).put(sec).array());
    }

    private static void handshake(Socket s) throws Exception {
        s.getOutputStream().write(hello(SECRET, CoordinatorRpcLayout.VERSION));
        InputStream in = s.getInputStream();
        byte[] welcome = in.readNBytes(4 + 17);
        assertThat(welcome[4]).as("WELCOME").isEqualTo(CoordinatorRpcLayout.WELCOME);
    }

    /** A well-formed call that changes the store if executed: a PUT or a DELETE, or a scan. */
    private static byte[] callBody(Random random) {
        byte[] key = new byte[1 + random.nextInt(32)];
        random.nextBytes(key);
        return switch (random.nextInt(3)) {
            case 0 -> {
                byte[] value = new byte[random.nextInt(64)];
                random.nextBytes(value);
                yield le(2 + 2 + key.length + 4 + value.length).put(CoordinatorRpcLayout.CALL)
                        .put(CoordinatorRpcLayout.PUT).putShort((short) key.length).put(key).putInt(value.length)
                        .put(value).array();
            }
            case 1 -> le(2 + 2 + key.length).put(CoordinatorRpcLayout.CALL).put(CoordinatorRpcLayout.DELETE)
                    .putShort((short) key.length).put(key).array();
            default -> le(2 + 2 + key.length + 1 + 4).put(CoordinatorRpcLayout.CALL).put(CoordinatorRpcLayout.SCAN)
                    .putShort((short) key.length).put(key).put((byte) 0).putInt(1 + random.nextInt(256)).array();
        };
    }

    /** One connection, one malformed frame: before or after a proper handshake. */
    private static void sendGarbage(int port, Random random) throws Exception {
        int kind = random.nextInt(100);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.setSoLinger(true, 0);
            OutputStream out = s.getOutputStream();
            if (kind < 20) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                out.write(junk);
                return;
            }
            if (kind < 25) {
                out.write(hello("wrong-" + random.nextInt(), CoordinatorRpcLayout.VERSION));
                return;
            }
            handshake(s);
            byte[] body = callBody(random);
            if (kind < 45) {
                out.write(frame(Arrays.copyOf(body, 1 + random.nextInt(body.length - 1))));
            } else if (kind < 60) {
                out.write(frame(Arrays.copyOf(body, body.length + 1 + random.nextInt(8))));
            } else if (kind < 70) {
                int unknown = CoordinatorRpcLayout.LAST_METHOD + 1;
                body[1] = (byte) (unknown + random.nextInt(256 - unknown));
                out.write(frame(body));
            } else if (kind < 80) {
                body[0] = (byte) (random.nextBoolean() ? 1 + random.nextInt(3) : 5 + random.nextInt(200));
                out.write(frame(body));
            } else if (kind < 90) {
                byte[] f = frame(body);
                out.write(f, 0, 4 + random.nextInt(body.length));
            } else if (kind < 95) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                if (junk[0] == CoordinatorRpcLayout.CALL) {
                    junk[0] = 0;
                }
                out.write(frame(junk));
            } else {
                out.write(new byte[] {0, 0, 0, 0});
            }
            out.flush();
        }
    }
}
