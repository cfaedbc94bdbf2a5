package org.pdpm.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.rpc.RawFrames.frame;
import static org.pdpm.core.rpc.RawFrames.handshake;
import static org.pdpm.core.rpc.RawFrames.hello;
import static org.pdpm.core.rpc.RawFrames.le;
import static org.pdpm.core.rpc.RawFrames.readToEnd;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.layout.Pointer;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;

/** Clover over {@link RemoteMetadataService}: every call, its errors, its bounds, restarts and garbage. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetadataRpcTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyCallAnswersAsTheEmbeddedServerDoes() throws Exception {
        try (RpcPool pool = new RpcPool(2, 2, 4 << 20)) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            PoolLayout layout = remote.pool();
            assertThat(layout).isEqualTo(pool.metadata.pool());

            long first = remote.registerClient();
            assertThat(remote.registerClient()).isEqualTo(first + 1);

            CloverStore store = pool.client(remote);
            for (int i = 0; i < 300; i++) {
                store.put(b("key-" + i), b("value-" + i));
            }
            store.put(b("key-7"), b("newer"));
            store.delete(b("key-8"));
            // A new client learns every key through lookup and scan over the wire.
            CloverStore other = pool.client();
            assertThat(other.get(b("key-7"))).isEqualTo(b("newer"));
            assertThat(other.get(b("key-8"))).isNull();
            assertThat(other.get(b("key-299"))).isEqualTo(b("value-299"));
            assertThat(other.get(b("missing"))).isNull();
            int scanned = 0;
            try (KvCursor c = other.scan(b("key-"))) {
                while (c.hasNext()) {
                    c.next();
                    scanned++;
                }
            }
            assertThat(scanned).isEqualTo(299);

            MetadataService.KeyLocation remoteLoc = remote.lookup(b("key-7"));
            MetadataService.KeyLocation localLoc = pool.metadata.lookup(b("key-7"));
            assertThat(remoteLoc.key()).isEqualTo(b("key-7"));
            assertThat(remoteLoc.head()).isEqualTo(localLoc.head());
            assertThat(remoteLoc.tail()).isEqualTo(localLoc.tail());
            assertThat(remoteLoc.created()).isFalse();
            assertThat(remote.lookup(b("missing"))).isNull();

            MetadataService.KeyLocation again = remote.create(b("key-7"), Pointer.of(0, layout.dataOffset(), 64));
            assertThat(again.created()).isFalse();
            assertThat(again.tail()).isEqualTo(localLoc.tail());
            List<MetadataService.KeyLocation> batch = remote.createAll(List.of(b("key-7"), b("key-9")),
                    new long[] {Pointer.of(0, layout.dataOffset(), 64), Pointer.of(0, layout.dataOffset(), 64)});
            assertThat(batch).extracting(MetadataService.KeyLocation::created).containsExactly(false, false);
            assertThat(batch.get(0).tail()).isEqualTo(localLoc.tail());
            assertThat(batch.get(1).key()).isEqualTo(b("key-9"));
            List<KvEntry> fresh = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                fresh.add(new KvEntry(b("batched-" + i), b("over the wire " + i)));
            }
            store.putAll(fresh);                              // creates them all in one CREATE_ALL
            assertThat(other.get(b("batched-39"))).isEqualTo(b("over the wire 39"));
            assertThat(pool.metadata.lookup(b("batched-0")).created()).isFalse();

            List<MetadataService.KeyLocation> page = remote.scan(b("key-1"), b("key-10"), 5);
            List<MetadataService.KeyLocation> expected = pool.metadata.scan(b("key-1"), b("key-10"), 5);
            assertThat(page).hasSize(5);
            for (int i = 0; i < 5; i++) {
                assertThat(page.get(i).key()).isEqualTo(expected.get(i).key());
                assertThat(page.get(i).head()).isEqualTo(expected.get(i).head());
                assertThat(page.get(i).tail()).isEqualTo(expected.get(i).tail());
            }
            assertThat(remote.scan(b(""), null, 0)).isEmpty();

            long client = remote.registerClient();
            MetadataService.BlockGrant grant = remote.grantBlock(client);
            assertThat(grant.bytes()).isEqualTo(layout.blockBytes());
            assertThat(grant.offset()).isGreaterThanOrEqualTo(layout.dataOffset());
            long logBefore = pool.metadata.logBytesUsed();
            remote.sealBlock(client, grant, 0);
            assertThat(pool.metadata.logBytesUsed()).as("the seal was logged").isGreaterThan(logBefore);
            // Retiring nothing for a known key and anything for an unknown key are no-ops that answer.
            remote.retire(b("key-7"), Pointer.NULL, localLoc.tail(), 0);
            remote.retire(b("nobody"), Pointer.NULL, localLoc.tail(), 1);
            assertThat(other.get(b("key-7"))).isEqualTo(b("newer"));
        }
    }

    @Test
    void manyThreadsShareOneClient() throws Exception {
        try (RpcPool pool = new RpcPool(2, 2, 8 << 20)) {
            CloverStore store = pool.client();
            ExecutorService threads = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int thread = t;
                    done.add(threads.submit(() -> {
                        for (int i = 0; i < 200; i++) {
                            store.put(b("t" + thread + "-" + i), b("v" + i));
                        }
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            CloverStore reader = pool.client();
            for (int t = 0; t < 8; t++) {
                for (int i = 0; i < 200; i += 13) {
                    assertThat(reader.get(b("t" + t + "-" + i))).isEqualTo(b("v" + i));
                }
            }
            assertThat(pool.metadata.keyCount()).isEqualTo(1600);
        }
    }

    @Test
    void aWrongSecretIsRefusedWithAReason() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20)) {
            RemoteMetadataService wrong = pool.remote("not-the-secret");
            assertThatThrownBy(wrong::pool)
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("metadata server at " + pool.address())
                    .hasMessageContaining("refused this client: wrong secret")
                    .hasMessageContaining("could not learn the pool layout");
            RemoteMetadataService none = pool.remote(null);
            assertThatThrownBy(none::registerClient).hasMessageContaining("wrong secret");
            assertThat(pool.remote(RpcPool.SECRET).pool().poolId()).isEqualTo(pool.metadata.pool().poolId());
        }
    }

    @Test
    void aClientOfTheFirstVersionIsRefusedWithAReason() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20);
             Socket s = new Socket("127.0.0.1", pool.address().port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(hello(RpcPool.SECRET, 1));
            byte[] refused = readToEnd(s.getInputStream());
            assertThat(refused[4]).as("REFUSED").isEqualTo(MetadataRpcLayout.REFUSED);
            assertThat(new String(refused, 4 + 3, refused.length - 4 - 3, StandardCharsets.UTF_8))
                    .isEqualTo("protocol version 1 is not served; this server speaks version " + MetadataRpcLayout.VERSION);
        }
    }

    @Test
    void serviceErrorsArriveWithTheirTypeAndMessage() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20, ThrowingService::new)) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            assertThatThrownBy(() -> remote.lookup(b("throw:iae")))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("name=iae is bad");
            assertThatThrownBy(() -> remote.lookup(b("throw:ise")))
                    .isExactlyInstanceOf(IllegalStateException.class).hasMessage("state=ise is wrong");
            assertThatThrownBy(() -> remote.lookup(b("throw:space")))
                    .isExactlyInstanceOf(SpaceExhaustedException.class).hasMessage("no room for space");
            assertThatThrownBy(() -> remote.lookup(b("throw:down")))
                    .isExactlyInstanceOf(StoreUnavailableException.class).hasMessage("memory node 3 is down");
            assertThatThrownBy(() -> remote.lookup(b("throw:fabric")))
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("cannot reach its memory nodes")
                    .hasMessageContaining("RETRY_EXCEEDED: node n0 did not answer");
            assertThatThrownBy(() -> remote.lookup(b("throw:npe")))
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("metadata server at " + pool.address() + " failed")
                    .hasMessageContaining("java.lang.NullPointerException: oops");
            // An error is an answer: the connection stays in step and serves the next call.
            assertThat(remote.lookup(b("absent"))).isNull();
            assertThat(pool.rpc.sessionCount()).isEqualTo(1);
        }
    }

    @Test
    void aFullPoolFailsWithSpaceExhaustedThroughTheWire() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20)) {
            CloverStore store = pool.client();
            store.put(b("first"), b("kept"));
            byte[] big = new byte[16 << 10];
            assertThatThrownBy(() -> {
                for (int i = 0; i < 10_000; i++) {
                    store.put(b("fill-" + i), big);
                }
            }).isExactlyInstanceOf(SpaceExhaustedException.class).hasMessageContaining("no free block");
            assertThat(store.get(b("first"))).isEqualTo(b("kept"));
        }
    }

    @Test
    void boundsAreCheckedAtTheirEdges() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 4 << 20)) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            assertThat(remote.lookup(new byte[MetadataRpcLayout.MAX_KEY_BYTES])).isNull();
            assertThatThrownBy(() -> remote.lookup(new byte[MetadataRpcLayout.MAX_KEY_BYTES + 1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAX_KEY_BYTES=65535");
            assertThat(remote.scan(b(""), null, MetadataRpcLayout.MAX_SCAN_LIMIT)).isEmpty();
            assertThatThrownBy(() -> remote.scan(b(""), null, MetadataRpcLayout.MAX_SCAN_LIMIT + 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAX_SCAN_LIMIT=256");
            // A full page of long keys comes back in one reply.
            CloverStore store = CloverStore.builder().fabric(pool.fabric).memoryNodes(pool.nodes).metadata(remote)
                    .limits(new KvLimits(2000, 16)).open();
            try {
                for (int i = 0; i < MetadataRpcLayout.MAX_SCAN_LIMIT + 1; i++) {
                    store.put(b(String.format("%04d", i) + "k".repeat(1996)), b("v"));
                }
            } finally {
                store.close();
            }
            assertThat(remote.scan(b(""), null, MetadataRpcLayout.MAX_SCAN_LIMIT)).hasSize(MetadataRpcLayout.MAX_SCAN_LIMIT);
        }
    }

    @Test
    void aStoppedServerIsNamedAndARestartedOneIsFoundAgain() throws Exception {
        try (RpcPool pool = new RpcPool(2, 2, 4 << 20)) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            CloverStore store = pool.client(remote);
            for (int i = 0; i < 50; i++) {
                store.put(b("k" + i), b("v" + i));
            }
            pool.stopServer();

            // Cached keys need no metadata server: reads and overwrites go on.
            assertThat(store.get(b("k3"))).isEqualTo(b("v3"));
            store.put(b("k3"), b("while-down"));
            assertThat(store.get(b("k3"))).isEqualTo(b("while-down"));
            assertThatThrownBy(() -> store.put(b("brand-new"), b("x")))
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("metadata server at " + pool.address())
                    .hasMessageContaining("could not create a key");
            assertThatThrownBy(() -> remote.lookup(b("k1")))
                    .isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("metadata server at " + pool.address() + " is unreachable")
                    .hasMessageContaining("could not look up a key");

            pool.startServer();
            // The first call after the restart already reaches the new server.
            assertThat(remote.lookup(b("k1"))).isNotNull();
            store.put(b("brand-new"), b("x"));
            CloverStore fresh = pool.client();
            assertThat(fresh.get(b("brand-new"))).isEqualTo(b("x"));
            assertThat(fresh.get(b("k3"))).isEqualTo(b("while-down"));
            for (int i = 0; i < 50; i++) {
                assertThat(fresh.get(b("k" + i))).isEqualTo(i == 3 ? b("while-down") : b("v" + i));
            }

            // Restarted while the client was idle: its open connection is stale, and the next call
            // notices before sending on it.
            pool.stopServer();
            pool.startServer();
            assertThat(remote.lookup(b("k1"))).isNotNull();
        }
    }

    @Test
    void aServerOfAnotherPoolOnTheSameAddressIsRefused() throws Exception {
        try (RpcPool first = new RpcPool(1, 1, 2 << 20);
             RpcPool second = new RpcPool(1, 1, 2 << 20)) {
            RemoteMetadataService remote = first.remote(RpcPool.SECRET);
            CloverStore store = first.client(remote);
            store.put(b("k"), b("v"));
            first.stopServer();
            try (MetadataRpcServer impostor = MetadataRpcServer.start(second.metadata, MetadataRpcServer.Config.of(
                    new InetSocketAddress("127.0.0.1", first.address().port()), RpcPool.SECRET))) {
                // Space granted by another pool's server would overwrite that pool's data.
                assertThatThrownBy(() -> remote.grantBlock(1))
                        .isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("now serves pool " + second.metadata.pool().poolId())
                        .hasMessageContaining("not pool " + first.metadata.pool().poolId())
                        .hasMessageContaining("could not get space");
                // The client hangs up after refusing the handshake; the server's session ends soon after.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (impostor.sessionCount() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(impostor.sessionCount()).isZero();
            }
        }
    }

    @Test
    void aServerThatStopsAnsweringTimesOutAndIsLeftBehind() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            NodeAddress address = new NodeAddress("127.0.0.1", silent.getLocalPort());
            Thread acceptor = new Thread(() -> {
                // Welcomes every client, then never answers a call.
                List<Socket> held = new ArrayList<>();
                try {
                    while (true) {
                        Socket s = silent.accept();
                        held.add(s);
                        s.getInputStream().readNBytes(4 + 9 + RpcPool.SECRET.length());
                        s.getOutputStream().write(frame(le(17).put((byte) 2).putLong(1).putLong(2).array()));
                    }
                } catch (Exception closed) {
                    held.forEach(h -> {
                        try {
                            h.close();
                        } catch (Exception ignored) {
                            // The test is over; the socket goes with the thread.
                        }
                    });
                }
            });
            acceptor.start();
            try (RemoteMetadataService remote = new RemoteMetadataService(address, new RemoteMetadataService.Options(
                    RpcPool.SECRET, Duration.ofSeconds(5), Duration.ofMillis(300), 1))) {
                long t0 = System.nanoTime();
                assertThatThrownBy(remote::registerClient)
                        .isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("metadata server at " + address + " did not answer within 300 ms")
                        .hasMessageContaining("could not register a client");
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(250L, 5_000L);
                // The late answer would be out of step: the next call starts on a new connection.
                assertThatThrownBy(remote::registerClient).hasMessageContaining("did not answer within 300 ms");
            }
            silent.close();
            acceptor.join(5_000);
        }
    }

    @Test
    void garbageFramesNeitherCrashTheServerNorChangeItsState() throws Exception {
        long seed = Long.getLong("pdpm.fuzz.seed", 20261207L);
        Random random = new Random(seed);
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20, RecordingMetadataService::new)) {
            CloverStore store = pool.client();
            store.put(b("before"), b("garbage"));
            int keys = pool.metadata.keyCount();
            long log = pool.metadata.logBytesUsed();
            ((RecordingMetadataService) pool.served).calls.clear();   // the store's own lookup of its lineage
            for (int i = 0; i < 2_000; i++) {
                sendGarbage(pool, random);
                if (i % 200 == 0) {
                    assertThat(store.get(b("before"))).as("seed=%d", seed).isEqualTo(b("garbage"));
                }
            }
            assertThat(pool.metadata.keyCount()).as("seed=%d", seed).isEqualTo(keys);
            assertThat(pool.metadata.logBytesUsed()).as("seed=%d", seed).isEqualTo(log);
            List<List<Object>> executed = ((RecordingMetadataService) pool.served).calls;
            assertThat(executed).as("seed=%d: lineage, pin and membership calls executed", seed).isEmpty();
            store.put(b("after"), b("fine"));
            assertThat(pool.client().get(b("after"))).isEqualTo(b("fine"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pool.rpc.sessionCount() > 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(pool.rpc.sessionCount()).as("garbage sessions were closed").isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aFrameOverItsBoundClosesTheConnection() throws Exception {
        try (RpcPool pool = new RpcPool(1, 1, 2 << 20)) {
            try (Socket s = new Socket("127.0.0.1", pool.address().port())) {
                s.setSoTimeout(10_000);
                // Before the handshake, a frame larger than a HELLO is refused unread.
                s.getOutputStream().write(le(4).putInt(MetadataRpcLayout.MAX_HELLO_BYTES + 1).array());
                assertThat(readToEnd(s.getInputStream())).isEmpty();
            }
            try (Socket s = new Socket("127.0.0.1", pool.address().port())) {
                s.setSoTimeout(10_000);
                handshake(s, RpcPool.SECRET);
                s.getOutputStream().write(le(4).putInt(MetadataRpcLayout.MAX_BODY_BYTES + 1).array());
                assertThat(readToEnd(s.getInputStream())).isEmpty();
            }
            assertThat(pool.remote(RpcPool.SECRET).registerClient()).isPositive();
        }
    }

    // ------------------------------------------------------------------ garbage

    /**
     * A call the test would notice if executed: CREATE, CREATE_ALL, or one of lineages, pins and membership
     * (which the recording service records).
     */
    private static byte[] callBody(Random random) {
        return switch (random.nextInt(9)) {
            case 0 -> {
                byte[] key = new byte[1 + random.nextInt(32)];
                random.nextBytes(key);
                yield le(2 + 2 + key.length + 8).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.CREATE)
                        .putShort((short) key.length).put(key).putLong(random.nextLong()).array();
            }
            case 1 -> le(2).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.NEW_LINEAGE).array();
            case 2 -> le(2 + 4 + 8).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.FORK).putInt(random.nextInt())
                    .putLong(random.nextLong()).array();
            case 3 -> le(2 + 4).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.DROP_LINEAGE)
                    .putInt(random.nextInt()).array();
            case 4 -> le(2).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.MEMBERSHIP).array();
            case 5 -> le(2 + 4).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.REPORT_UNREACHABLE)
                    .putInt(random.nextInt()).array();
            case 6 -> {
                byte[] key = new byte[1 + random.nextInt(32)];
                random.nextBytes(key);
                yield le(2 + 4 + 2 + key.length + 8).put(MetadataRpcLayout.CALL).put(MetadataRpcLayout.CREATE_ALL).putInt(1)
                        .putShort((short) key.length).put(key).putLong(random.nextLong()).array();
            }
            default -> {
                byte[] owner = ("owner-" + random.nextInt()).getBytes(StandardCharsets.UTF_8);
                byte method = random.nextBoolean() ? MetadataRpcLayout.PIN : MetadataRpcLayout.UNPIN;
                yield le(2 + 4 + 8 + 1 + owner.length).put(MetadataRpcLayout.CALL).put(method).putInt(random.nextInt())
                        .putLong(random.nextLong()).put((byte) owner.length).put(owner).array();
            }
        };
    }

    /** One connection, one malformed frame: before or after a proper handshake. */
    private static void sendGarbage(RpcPool pool, Random random) throws Exception {
        int kind = random.nextInt(100);
        try (Socket s = new Socket("127.0.0.1", pool.address().port())) {
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
                out.write(hello("wrong-" + random.nextInt()));
                return;
            }
            handshake(s, RpcPool.SECRET);
            byte[] body = callBody(random);
            if (kind < 45) {
                // Cut short, the length prefix telling the truth: a field is missing.
                out.write(frame(Arrays.copyOf(body, 1 + random.nextInt(body.length - 1))));
            } else if (kind < 60) {
                byte[] longer = Arrays.copyOf(body, body.length + 1 + random.nextInt(8));
                out.write(frame(longer));
            } else if (kind < 70) {
                int unknown = MetadataRpcLayout.LAST_METHOD + 1;
                body[1] = (byte) (unknown + random.nextInt(256 - unknown));
                out.write(frame(body));
            } else if (kind < 80) {
                body[0] = (byte) (random.nextBoolean() ? 1 + random.nextInt(3) : 5 + random.nextInt(200));
                out.write(frame(body));
            } else if (kind < 90) {
                // The prefix promises more than ever arrives.
                byte[] f = frame(body);
                out.write(f, 0, 4 + random.nextInt(body.length));
            } else if (kind < 95) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                if (junk[0] == 4) {
                    // Random bytes after a CALL type could spell a real call; garbage must not.
                    junk[0] = 0;
                }
                out.write(frame(junk));
            } else {
                out.write(new byte[] {0, 0, 0, 0});
            }
            out.flush();
        }
    }

    /** The embedded server, but for keys {@code throw:*}, whose lookup throws what they name. */
    private static final class ThrowingService extends ForwardingMetadataService {

        ThrowingService(MetadataService delegate) {
            super(delegate);
        }

        @Override
        public KeyLocation lookup(byte[] key) {
            switch (new String(key, StandardCharsets.UTF_8)) {
                case "throw:iae" -> throw new IllegalArgumentException("name=iae is bad");
                case "throw:ise" -> throw new IllegalStateException("state=ise is wrong");
                case "throw:space" -> throw new SpaceExhaustedException("no room for space");
                case "throw:down" -> throw new StoreUnavailableException("memory node 3 is down");
                case "throw:fabric" -> throw new FabricException(FabricException.Status.RETRY_EXCEEDED,
                        "node n0 did not answer");
                case "throw:npe" -> throw new NullPointerException("oops");
                default -> {
                    return delegate.lookup(key);
                }
            }
        }
    }
}
