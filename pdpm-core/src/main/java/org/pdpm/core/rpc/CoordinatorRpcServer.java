package org.pdpm.core.rpc;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.central.CoordinatorService;

/**
 * Serves a {@link CoordinatorService} (pDPM-Central's coordinator) to {@link RemoteCoordinator}
 * clients over TCP, in the frames of {@link CoordinatorRpcLayout}. Each connection gets one
 * thread, which answers its calls one at a time; the coordinator's per-key locks serialize what
 * must be serialized. Clients present the shared secret first.
 */
public final class CoordinatorRpcServer extends FramedRpcServer {

    /** Enough for a few hundred compute-node clients of a few connections each. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    /**
     * @param secret         the shared secret clients must present; null accepts every client
     * @param maxConnections connections served at once; more are refused with a reason
     */
    public record Config(InetSocketAddress listen, String secret, int maxConnections) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > CoordinatorRpcLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + CoordinatorRpcLayout.MAX_SECRET_BYTES
                        + " bytes");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections=" + maxConnections + " must be positive");
            }
        }

        public static Config of(InetSocketAddress listen, String secret) {
            return new Config(listen, secret, DEFAULT_MAX_CONNECTIONS);
        }
    }

    private static final Protocol PROTOCOL = new Protocol("coordinator", "coordinator", "pDPM-Central client",
            "pdpm-coordinator",
            CoordinatorRpcLayout.MAGIC, CoordinatorRpcLayout.VERSION, CoordinatorRpcLayout.MAX_BODY_BYTES);

    private final CoordinatorService service;

    private CoordinatorRpcServer(CoordinatorService service, Config config, ServerSocket server) {
        super(PROTOCOL, config.secret(), config.maxConnections(), service.info().poolId(), server);
        this.service = service;
    }

    /** Listens on {@code config.listen()} and starts serving {@code service}, which stays the caller's to close. */
    public static CoordinatorRpcServer start(CoordinatorService service, Config config) throws IOException {
        Objects.requireNonNull(service, "service");
        CoordinatorRpcServer s = new CoordinatorRpcServer(service, config, listen(config.listen()));
        s.serve("may read and write every key");
        return s;
    }

    /** Parses the whole call before executing it, so a malformed one changes nothing. */
    @Override
    Runnable parse(byte method, FrameCursor in, Reply reply) throws MalformedFrameException {
        return switch (method) {
            case CoordinatorRpcLayout.INFO -> {
                in.expectEnd();
                yield () -> {
                    CoordinatorService.Info i = service.info();
                    reply.ok().putLong(i.poolId().getMostSignificantBits()).putLong(i.poolId().getLeastSignificantBits())
                            .putInt(i.nodeCount()).putInt(i.replication()).putInt(i.limits().maxKeyBytes())
                            .putInt(i.limits().maxValueBytes());
                };
            }
            case CoordinatorRpcLayout.GET -> {
                byte[] key = in.getKey();
                in.expectEnd();
                yield () -> {
                    CoordinatorService.Read r = service.get(key);
                    FrameWriter w = reply.ok().putByte(r.value() == null ? 0 : 1);
                    if (r.value() != null) {
                        CoordinatorCodec.putValue(w, r.value());
                    }
                    CoordinatorCodec.putCost(w, r.cost());
                };
            }
            case CoordinatorRpcLayout.PUT -> {
                byte[] key = in.getKey();
                byte[] value = CoordinatorCodec.getValue(in);
                in.expectEnd();
                yield () -> CoordinatorCodec.putCost(reply.ok(), service.put(key, value));
            }
            case CoordinatorRpcLayout.DELETE -> {
                byte[] key = in.getKey();
                in.expectEnd();
                yield () -> CoordinatorCodec.putCost(reply.ok(), service.delete(key));
            }
            case CoordinatorRpcLayout.PUT_IF_ABSENT -> {
                byte[] key = in.getKey();
                byte[] value = CoordinatorCodec.getValue(in);
                in.expectEnd();
                yield () -> {
                    CoordinatorService.Written written = service.putIfAbsent(key, value);
                    CoordinatorCodec.putCost(reply.ok().putByte(written.written() ? 1 : 0), written.cost());
                };
            }
            case CoordinatorRpcLayout.SCAN -> {
                byte[] prefix = in.getKey();
                byte[] after = MetadataCodec.getFlag(in) ? in.getKey() : null;
                int limit = in.getInt();
                in.expectEnd();
                yield () -> {
                    CoordinatorService.Page page = service.scan(prefix, after, limit);
                    FrameWriter w = reply.ok().putByte(page.more() ? 1 : 0).putInt(page.entries().size());
                    for (KvEntry e : page.entries()) {
                        w.putKey(e.key());
                        CoordinatorCodec.putValue(w, e.value());
                    }
                    CoordinatorCodec.putCost(w, page.cost());
                };
            }
            case CoordinatorRpcLayout.MEMBERSHIP -> {
                in.expectEnd();
                yield () -> {
                    CoordinatorService.Membership m = service.membership();
                    FrameWriter w = reply.ok().putLong(m.version()).putInt(m.outNodes().size());
                    for (int n : m.outNodes()) {
                        w.putInt(n);
                    }
                };
            }
            default -> throw new MalformedFrameException("unknown method " + Byte.toUnsignedInt(method));
        };
    }
}
