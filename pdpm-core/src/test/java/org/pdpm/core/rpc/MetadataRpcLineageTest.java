package org.pdpm.core.rpc;

import org.pdpm.core.api.Lineages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.rpc.RawFrames.frame;
import static org.pdpm.core.rpc.RawFrames.handshake;
import static org.pdpm.core.rpc.RawFrames.le;
import static org.pdpm.core.rpc.RawFrames.readToEnd;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.clover.MetadataService.EpochRange;
import org.pdpm.core.clover.MetadataService.KeyLocation;
import org.pdpm.core.clover.MetadataService.LineageInfo;
import org.pdpm.core.clover.MetadataService.Membership;
import org.pdpm.core.api.Lineages.Pin;
import org.pdpm.rdma.api.NodeAddress;

/**
 * Lineages, pins, membership and a location's head over {@link RemoteMetadataService}, against a service that
 * records what arrived and answers what the test set: the wire must carry both ways unchanged.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetadataRpcLineageTest {

    /** 14 UTF-8 bytes of 2, 3 and 4 bytes per character. */
    private static final String MULTIBYTE = "ß-東京-🚀";
    /** Exactly {@link MetadataService#MAX_PIN_OWNER_BYTES} UTF-8 bytes. */
    private static final String LONGEST_OWNER = "é".repeat(127) + "a";

    private static RpcPool recordingPool() {
        return new RpcPool(1, 1, 2 << 20, RecordingMetadataService::new);
    }

    private static RecordingMetadataService fake(RpcPool pool) {
        return (RecordingMetadataService) pool.served;
    }

    @Test
    void lineageCallsCarryTheirArgumentsAndResultsIntact() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);

            fake.nextLineage = Integer.MIN_VALUE;
            assertThat(remote.createLineage()).isEqualTo(Integer.MIN_VALUE);
            fake.nextLineage = Integer.MAX_VALUE;
            assertThat(remote.fork(-1, Long.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
            fake.nextLineage = 7;
            assertThat(remote.fork(Integer.MAX_VALUE, Long.MIN_VALUE)).isEqualTo(7);
            remote.dropLineage(Integer.MIN_VALUE);
            remote.dropLineage(0);

            fake.lineage = new LineageInfo(-3, false, List.of());
            assertThat(remote.lineage(-3)).isEqualTo(new LineageInfo(-3, false, List.of()));
            LineageInfo deep = new LineageInfo(Integer.MAX_VALUE, true, List.of(
                    new EpochRange(Integer.MAX_VALUE, Long.MAX_VALUE),
                    new EpochRange(12, 0),
                    new EpochRange(Integer.MIN_VALUE, -1)));
            fake.lineage = deep;
            assertThat(remote.lineage(Integer.MAX_VALUE)).isEqualTo(deep);

            assertThat(fake.calls).containsExactly(
                    List.of("createLineage"),
                    List.of("fork", -1, Long.MAX_VALUE),
                    List.of("fork", Integer.MAX_VALUE, Long.MIN_VALUE),
                    List.of("dropLineage", Integer.MIN_VALUE),
                    List.of("dropLineage", 0),
                    List.of("lineage", -3),
                    List.of("lineage", Integer.MAX_VALUE));
        }
    }

    @Test
    void pinsCarryTheirOwnersByteForByte() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            assertThat(LONGEST_OWNER.getBytes(StandardCharsets.UTF_8)).hasSize(Lineages.MAX_PIN_OWNER_BYTES);

            remote.pin(5, Long.MAX_VALUE, MULTIBYTE);
            remote.unpin(-5, Long.MIN_VALUE, MULTIBYTE);
            remote.pin(0, 0, "");
            remote.pin(Integer.MAX_VALUE, -1, LONGEST_OWNER);

            fake.pins = List.of();
            assertThat(remote.pins()).isEmpty();
            List<Pin> held = List.of(
                    new Pin(Integer.MIN_VALUE, Long.MAX_VALUE, MULTIBYTE),
                    new Pin(0, -1, ""),
                    new Pin(Integer.MAX_VALUE, 0, LONGEST_OWNER));
            fake.pins = held;
            assertThat(remote.pins()).containsExactlyElementsOf(held);

            assertThat(fake.calls).containsExactly(
                    List.of("pin", 5, Long.MAX_VALUE, MULTIBYTE),
                    List.of("unpin", -5, Long.MIN_VALUE, MULTIBYTE),
                    List.of("pin", 0, 0L, ""),
                    List.of("pin", Integer.MAX_VALUE, -1L, LONGEST_OWNER),
                    List.of("pins"),
                    List.of("pins"));
        }
    }

    @Test
    void anOwnerNoPinCanCarryIsRefusedBeforeAnythingIsSent() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            assertThatThrownBy(() -> remote.pin(1, 1, null))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("owner is null")
                    .hasMessageContaining("MAX_PIN_OWNER_BYTES=255");
            assertThatThrownBy(() -> remote.unpin(1, 1, null))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("MAX_PIN_OWNER_BYTES=255");
            assertThatThrownBy(() -> remote.pin(1, 1, LONGEST_OWNER + "a"))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("owner is 256 UTF-8 bytes, more than MAX_PIN_OWNER_BYTES=255");
            // Bytes count, not characters: 86 characters of 3 bytes each.
            assertThatThrownBy(() -> remote.unpin(1, 1, "東".repeat(86)))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("owner is 258 UTF-8 bytes, more than MAX_PIN_OWNER_BYTES=255");
            // Replacing the lone surrogate would pin for another owner than the one named.
            assertThatThrownBy(() -> remote.pin(1, 1, "job-\uD83D"))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("unpaired surrogate");
            assertThat(fake(pool).calls).isEmpty();
            assertThat(pool.rpc.sessionCount()).as("no connection was opened").isZero();
        }
    }

    @Test
    void serviceErrorsArriveWithTheirTypeAndMessage() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            fake.failure = new IllegalArgumentException("there is no lineage 99");
            assertThatThrownBy(() -> remote.fork(99, 3))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("there is no lineage 99");
            assertThatThrownBy(() -> remote.lineage(99))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("there is no lineage 99");
            fake.failure = new IllegalStateException("epoch 3 of lineage 1 is collected");
            assertThatThrownBy(() -> remote.pin(1, 3, MULTIBYTE))
                    .isExactlyInstanceOf(IllegalStateException.class).hasMessage("epoch 3 of lineage 1 is collected");
            fake.failure = null;
            fake.nextLineage = 4;
            assertThat(remote.createLineage()).isEqualTo(4);
            assertThat(fake.calls).containsExactly(List.of("fork", 99, 3L), List.of("lineage", 99),
                    List.of("pin", 1, 3L, MULTIBYTE), List.of("createLineage"));
            assertThat(pool.rpc.sessionCount()).isEqualTo(1);
        }
    }

    @Test
    void fullRepliesFitOneFrameAndRepliesOverTheirCapsFailOnTheServer() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);

            List<Pin> most = new ArrayList<>();
            for (int i = 0; i < MetadataRpcLayout.MAX_PINS; i++) {
                most.add(new Pin(i, Long.MAX_VALUE - i, LONGEST_OWNER));
            }
            fake.pins = most;
            assertThat(remote.pins()).isEqualTo(most);
            List<Pin> tooMany = new ArrayList<>(most);
            tooMany.add(new Pin(0, 0, ""));
            fake.pins = tooMany;
            assertThatThrownBy(remote::pins)
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("32769 pins are held; a reply carries at most MAX_PINS=32768");
            fake.pins = List.of(new Pin(1, 2, "x"), new Pin(3, 4, LONGEST_OWNER + "a"));
            assertThatThrownBy(remote::pins)
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("the pin of lineage 3 at epoch 4 cannot be sent")
                    .hasMessageContaining("MAX_PIN_OWNER_BYTES=255");

            List<EpochRange> ranges = new ArrayList<>();
            for (int i = 0; i < MetadataRpcLayout.MAX_LINEAGE_RANGES; i++) {
                ranges.add(new EpochRange(-i, Long.MIN_VALUE + i));
            }
            fake.lineage = new LineageInfo(1, true, ranges);
            assertThat(remote.lineage(1).sees()).isEqualTo(ranges);
            ranges.add(new EpochRange(0, 0));
            fake.lineage = new LineageInfo(1, true, ranges);
            assertThatThrownBy(() -> remote.lineage(1))
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("lineage 1 sees 4097 ranges; a reply carries at most MAX_LINEAGE_RANGES=4096");

            // Each refusal was an ERROR in step with the call, not a broken frame.
            fake.pins = List.of(new Pin(1, 2, "x"));
            assertThat(remote.pins()).containsExactly(new Pin(1, 2, "x"));
            assertThat(pool.rpc.sessionCount()).isEqualTo(1);
        }
    }

    @Test
    void membershipCallsCarryTheirArgumentsAndResultsIntact() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);

            // Nothing canned: the embedded server's own answer, whatever it is, arrives unchanged.
            assertThat(remote.membership()).isEqualTo(pool.metadata.membership());

            fake.membership = new Membership(0, List.of());
            assertThat(remote.membership()).isEqualTo(new Membership(0, List.of()));
            assertThat(remote.reportUnreachable(0)).isEqualTo(new Membership(0, List.of()));

            Membership many = new Membership(Long.MAX_VALUE, List.of(0, 5, 767, Integer.MAX_VALUE, -1, Integer.MIN_VALUE));
            fake.membership = many;
            assertThat(remote.membership()).isEqualTo(many);
            assertThat(remote.reportUnreachable(Integer.MAX_VALUE)).isEqualTo(many);
            Membership old = new Membership(Long.MIN_VALUE, List.of(3));
            fake.membership = old;
            assertThat(remote.reportUnreachable(-1)).isEqualTo(old);
            fake.membership = new Membership(0x0102030405060708L, List.of(7, 8));
            assertThat(remote.reportUnreachable(Integer.MIN_VALUE))
                    .isEqualTo(new Membership(0x0102030405060708L, List.of(7, 8)));

            assertThat(fake.calls).containsExactly(
                    List.of("membership"),
                    List.of("membership"),
                    List.of("reportUnreachable", 0),
                    List.of("membership"),
                    List.of("reportUnreachable", Integer.MAX_VALUE),
                    List.of("reportUnreachable", -1),
                    List.of("reportUnreachable", Integer.MIN_VALUE));
        }
    }

    @Test
    void membershipErrorsArriveWithTheirTypeAndMessage() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            fake.failure = new StoreUnavailableException("node 4 cannot be checked: the server lost its own link");
            assertThatThrownBy(() -> remote.reportUnreachable(4))
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessage("node 4 cannot be checked: the server lost its own link");
            fake.failure = new IllegalArgumentException("there is no node 99");
            assertThatThrownBy(() -> remote.reportUnreachable(99))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("there is no node 99");
            fake.failure = new IllegalStateException("membership is not loaded yet");
            assertThatThrownBy(remote::membership)
                    .isExactlyInstanceOf(IllegalStateException.class).hasMessage("membership is not loaded yet");
            fake.failure = null;
            fake.membership = new Membership(2, List.of(4));
            assertThat(remote.reportUnreachable(4)).isEqualTo(new Membership(2, List.of(4)));
            assertThat(fake.calls).containsExactly(List.of("reportUnreachable", 4), List.of("reportUnreachable", 99),
                    List.of("membership"), List.of("reportUnreachable", 4));
            assertThat(pool.rpc.sessionCount()).isEqualTo(1);
        }
    }

    @Test
    void aFullMembershipFitsOneFrameAndOneOverItsCapFailsOnTheServer() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RecordingMetadataService fake = fake(pool);
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            List<Integer> most = new ArrayList<>();
            for (int i = 0; i < MetadataRpcLayout.MAX_OUT_NODES; i++) {
                most.add(i);
            }
            fake.membership = new Membership(Long.MAX_VALUE, most);
            assertThat(remote.membership()).isEqualTo(new Membership(Long.MAX_VALUE, most));
            List<Integer> tooMany = new ArrayList<>(most);
            tooMany.add(MetadataRpcLayout.MAX_OUT_NODES);
            fake.membership = new Membership(9, tooMany);
            assertThatThrownBy(() -> remote.reportUnreachable(1))
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("769 nodes are out of service in membership version 9; a reply carries at most"
                            + " MAX_OUT_NODES=768");
            fake.membership = new Membership(10, List.of(1));
            assertThat(remote.membership()).isEqualTo(new Membership(10, List.of(1)));
            assertThat(pool.rpc.sessionCount()).isEqualTo(1);
        }
    }

    @Test
    void aMembershipThatBreaksItsBoundsIsRefusedByTheClient() throws Exception {
        try (CannedServer server = new CannedServer();
             RemoteMetadataService remote = new RemoteMetadataService(server.address(),
                     RemoteMetadataService.Options.withSecret(null))) {
            server.reply = ok(b -> b.putLong(1).putInt(MetadataRpcLayout.MAX_OUT_NODES + 1));
            assertThatThrownBy(remote::membership)
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("sent a malformed answer; could not learn the membership")
                    .hasMessageContaining("769 out nodes; a reply carries at most 768");

            server.reply = ok(b -> b.putLong(1).putInt(-1));
            assertThatThrownBy(() -> remote.reportUnreachable(5))
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("could not report node 5 unreachable")
                    .hasMessageContaining("4294967295 out nodes; a reply carries at most 768");

            server.reply = ok(b -> b.putLong(1).putInt(2).putInt(3));
            assertThatThrownBy(remote::membership).hasMessageContaining("bytes short of its next field");

            server.reply = ok(b -> b.putLong(1).putInt(1).putInt(3).putInt(4));
            assertThatThrownBy(remote::membership).isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("4 trailing bytes after the frame's last field");

            server.reply = ok(b -> b.putLong(-2).putInt(2).putInt(3).putInt(-4));
            assertThat(remote.reportUnreachable(3)).isEqualTo(new Membership(-2, List.of(3, -4)));
        }
    }

    @Test
    void aLocationCarriesItsHead() throws Exception {
        try (RpcPool pool = recordingPool()) {
            RemoteMetadataService remote = pool.remote(RpcPool.SECRET);
            KeyLocation canned = new KeyLocation("kü".getBytes(StandardCharsets.UTF_8), 0x0102030405060708L,
                    Long.MAX_VALUE, true);
            fake(pool).location = canned;
            assertSameLocation(remote.lookup(new byte[] {1}), canned);
            assertSameLocation(remote.create(new byte[] {2}, 3), canned);
            List<KeyLocation> page = remote.scan(new byte[0], null, 2);
            assertThat(page).hasSize(2);
            page.forEach(l -> assertSameLocation(l, canned));
        }
    }

    private static void assertSameLocation(KeyLocation actual, KeyLocation expected) {
        assertThat(actual.key()).isEqualTo(expected.key());
        assertThat(actual.head()).isEqualTo(expected.head());
        assertThat(actual.tail()).isEqualTo(expected.tail());
        assertThat(actual.created()).isEqualTo(expected.created());
    }

    @Test
    void aPinWhoseOwnerIsNotUtf8ClosesTheConnectionUnexecuted() throws Exception {
        try (RpcPool pool = recordingPool();
             Socket s = new Socket("127.0.0.1", pool.address().port())) {
            s.setSoTimeout(10_000);
            handshake(s, RpcPool.SECRET);
            byte[] owner = {'a', (byte) 0xC3, '('};
            s.getOutputStream().write(frame(le(2 + 4 + 8 + 1 + owner.length).put(MetadataRpcLayout.CALL)
                    .put(MetadataRpcLayout.PIN).putInt(1).putLong(2).put((byte) owner.length).put(owner).array()));
            assertThat(readToEnd(s.getInputStream())).isEmpty();
            assertThat(fake(pool).calls).isEmpty();
        }
    }

    @Test
    void anAnswerThatBreaksItsBoundsIsRefusedByTheClient() throws Exception {
        try (CannedServer server = new CannedServer();
             RemoteMetadataService remote = new RemoteMetadataService(server.address(),
                     RemoteMetadataService.Options.withSecret(null))) {
            server.reply = ok(b -> b.putInt(MetadataRpcLayout.MAX_PINS + 1));
            assertThatThrownBy(remote::pins)
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("sent a malformed answer; could not list the pins")
                    .hasMessageContaining("32769 pins; a reply carries at most 32768");

            server.reply = ok(b -> b.putInt(7).put((byte) 1).putInt(-1));
            assertThatThrownBy(() -> remote.lineage(7))
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("could not describe a lineage")
                    .hasMessageContaining("4294967295 ranges; a reply carries at most 4096");

            server.reply = ok(b -> b.putInt(7).put((byte) 2).putInt(0));
            assertThatThrownBy(() -> remote.lineage(7)).hasMessageContaining("flag byte 2 is neither 0 nor 1");

            server.reply = ok(b -> b.putInt(1).putInt(1).putLong(1).put((byte) 2).put((byte) 0xFF).put((byte) 'a'));
            assertThatThrownBy(remote::pins).hasMessageContaining("pin owner is not UTF-8");

            server.reply = ok(b -> b.putInt(2).putInt(1).putLong(1).put((byte) 1).put((byte) 'a'));
            assertThatThrownBy(remote::pins).hasMessageContaining("bytes short of its next field");

            server.reply = ok(b -> b.putInt(1).putInt(1).putLong(1).put((byte) 1).put((byte) 'a'));
            assertThat(remote.pins()).containsExactly(new Pin(1, 1, "a"));
        }
    }

    /** A RESULT body: OK, then what {@code result} writes. */
    private static byte[] ok(Consumer<ByteBuffer> result) {
        ByteBuffer b = le(64).put(MetadataRpcLayout.RESULT).put(MetadataRpcLayout.OK);
        result.accept(b);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** Welcomes every client, one at a time, and answers each call with {@link #reply}, whatever it asked. */
    private static final class CannedServer implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        private final Thread thread = new Thread(this::serve, "canned-metadata-server");
        volatile byte[] reply;

        CannedServer() throws IOException {
            thread.setDaemon(true);
            thread.start();
        }

        NodeAddress address() {
            return new NodeAddress("127.0.0.1", listener.getLocalPort());
        }

        private void serve() {
            while (!listener.isClosed()) {
                try (Socket s = listener.accept()) {
                    InputStream in = s.getInputStream();
                    if (!readFrame(in)) {
                        continue;
                    }
                    byte[] welcome = le(17).put(MetadataRpcLayout.WELCOME).putLong(1).putLong(2).array();
                    s.getOutputStream().write(frame(welcome));
                    while (readFrame(in)) {
                        s.getOutputStream().write(frame(reply));
                    }
                } catch (IOException e) {
                    // The client hung up, or the test is over.
                }
            }
        }

        private static boolean readFrame(InputStream in) throws IOException {
            byte[] prefix = in.readNBytes(4);
            if (prefix.length < 4) {
                return false;
            }
            int length = le(4).put(prefix).flip().getInt();
            return in.readNBytes(length).length == length;
        }

        @Override
        public void close() throws Exception {
            listener.close();
            thread.join(5_000);
        }
    }
}
