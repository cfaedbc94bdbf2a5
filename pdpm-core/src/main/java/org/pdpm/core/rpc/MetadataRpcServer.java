package org.pdpm.core.rpc;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.pdpm.core.api.Lineages;
import org.pdpm.core.api.Lineages.Pin;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.clover.MetadataService.BlockGrant;
import org.pdpm.core.clover.MetadataService.KeyLocation;
import org.pdpm.core.clover.MetadataService.LineageInfo;
import org.pdpm.core.clover.MetadataService.Membership;

/**
 * Serves a {@link MetadataService} to {@link RemoteMetadataService} clients over TCP, in the frames
 * of {@link MetadataRpcLayout}. Each connection gets one thread, which answers its calls one at a
 * time; the service itself serializes what must be serialized. Clients present the shared secret
 * first, as they do to the memory nodes.
 */
public final class MetadataRpcServer extends FramedRpcServer {

    /** Enough for a few hundred compute-node clients of a few connections each. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    /**
     * @param secret         the shared secret clients must present; null accepts every client
     * @param maxConnections connections served at once; more are refused with a reason, so a
     *                       flood of clients cannot exhaust the server's threads
     */
    public record Config(InetSocketAddress listen, String secret, int maxConnections) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > MetadataRpcLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + MetadataRpcLayout.MAX_SECRET_BYTES + " bytes");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections=" + maxConnections + " must be positive");
            }
        }

        /** Up to {@value #DEFAULT_MAX_CONNECTIONS} connections. */
        public static Config of(InetSocketAddress listen, String secret) {
            return new Config(listen, secret, DEFAULT_MAX_CONNECTIONS);
        }
    }

    private static final Protocol PROTOCOL = new Protocol("metadata server", "server", "pDPM metadata client",
            "pdpm-metaserver",
            MetadataRpcLayout.MAGIC, MetadataRpcLayout.VERSION, MetadataRpcLayout.MAX_BODY_BYTES);

    private final MetadataService service;

    private MetadataRpcServer(MetadataService service, Config config, ServerSocket server) {
        super(PROTOCOL, config.secret(), config.maxConnections(), service.pool().poolId(), server);
        this.service = service;
    }

    /** Listens on {@code config.listen()} and starts serving {@code service}, which stays the caller's to close. */
    public static MetadataRpcServer start(MetadataService service, Config config) throws IOException {
        Objects.requireNonNull(service, "service");
        MetadataRpcServer s = new MetadataRpcServer(service, config, listen(config.listen()));
        s.serve("may allocate space and create keys");
        return s;
    }

    /** Parses the whole call before executing it, so a malformed one changes nothing. */
    @Override
    Runnable parse(byte method, FrameCursor in, Reply reply) throws MalformedFrameException {
        return switch (method) {
            case MetadataRpcLayout.POOL -> {
                in.expectEnd();
                yield () -> MetadataCodec.putPool(reply.ok(), service.pool());
            }
            case MetadataRpcLayout.REGISTER -> {
                in.expectEnd();
                yield () -> {
                    long id = service.registerClient();
                    reply.ok().putLong(id);
                };
            }
            case MetadataRpcLayout.LOOKUP -> {
                byte[] key = in.getKey();
                in.expectEnd();
                yield () -> {
                    KeyLocation l = service.lookup(key);
                    FrameWriter out = reply.ok().putByte(l == null ? 0 : 1);
                    if (l != null) {
                        MetadataCodec.putLocation(out, l);
                    }
                };
            }
            case MetadataRpcLayout.CREATE -> {
                byte[] key = in.getKey();
                long head = in.getLong();
                in.expectEnd();
                yield () -> {
                    KeyLocation l = service.create(key, head);
                    MetadataCodec.putLocation(reply.ok(), l);
                };
            }
            case MetadataRpcLayout.CREATE_ALL -> {
                int count = in.getInt();
                if (count < 0 || count > MetadataService.MAX_CREATE_ALL) {
                    throw new MalformedFrameException("CREATE_ALL of " + count + " keys; at most "
                            + MetadataService.MAX_CREATE_ALL);
                }
                List<byte[]> keys = new ArrayList<>(count);
                long[] heads = new long[count];
                for (int i = 0; i < count; i++) {
                    keys.add(in.getKey());
                    heads[i] = in.getLong();
                }
                in.expectEnd();
                yield () -> {
                    MetadataCodec.putLocations(reply.ok(), service.createAll(keys, heads));
                };
            }
            case MetadataRpcLayout.GRANT -> {
                long clientId = in.getLong();
                in.expectEnd();
                yield () -> {
                    BlockGrant g = service.grantBlock(clientId);
                    MetadataCodec.putGrant(reply.ok(), g);
                };
            }
            case MetadataRpcLayout.SEAL -> {
                long clientId = in.getLong();
                BlockGrant g = MetadataCodec.getGrant(in);
                int usedBytes = in.getInt();
                in.expectEnd();
                yield () -> {
                    service.sealBlock(clientId, g, usedBytes);
                    reply.ok();
                };
            }
            case MetadataRpcLayout.SCAN -> {
                byte[] prefix = in.getKey();
                byte[] after = MetadataCodec.getFlag(in) ? in.getKey() : null;
                int limit = in.getInt();
                in.expectEnd();
                yield () -> {
                    checkScanLimit(limit);
                    MetadataCodec.putLocations(reply.ok(), service.scan(prefix, after, limit));
                };
            }
            case MetadataRpcLayout.RETIRE -> {
                byte[] key = in.getKey();
                long superseded = in.getLong();
                long tail = in.getLong();
                long tailSeq = in.getLong();
                in.expectEnd();
                yield () -> {
                    service.retire(key, superseded, tail, tailSeq);
                    reply.ok();
                };
            }
            case MetadataRpcLayout.NEW_LINEAGE -> {
                in.expectEnd();
                yield () -> {
                    int id = service.createLineage();
                    reply.ok().putInt(id);
                };
            }
            case MetadataRpcLayout.FORK -> {
                int lineage = in.getInt();
                long epoch = in.getLong();
                in.expectEnd();
                yield () -> {
                    int id = service.fork(lineage, epoch);
                    reply.ok().putInt(id);
                };
            }
            case MetadataRpcLayout.LINEAGE -> {
                int lineage = in.getInt();
                in.expectEnd();
                yield () -> {
                    LineageInfo l = service.lineage(lineage);
                    MetadataCodec.putLineage(reply.ok(), l);
                };
            }
            case MetadataRpcLayout.DROP_LINEAGE -> {
                int lineage = in.getInt();
                in.expectEnd();
                yield () -> {
                    service.dropLineage(lineage);
                    reply.ok();
                };
            }
            case MetadataRpcLayout.PIN, MetadataRpcLayout.UNPIN -> {
                int lineage = in.getInt();
                long epoch = in.getLong();
                String owner = MetadataCodec.getOwner(in);
                in.expectEnd();
                yield () -> {
                    if (method == MetadataRpcLayout.PIN) {
                        service.pin(lineage, epoch, owner);
                    } else {
                        service.unpin(lineage, epoch, owner);
                    }
                    reply.ok();
                };
            }
            case MetadataRpcLayout.PINS -> {
                in.expectEnd();
                yield () -> {
                    List<Pin> pins = service.pins();
                    MetadataCodec.putPins(reply.ok(), pins);
                };
            }
            case MetadataRpcLayout.MEMBERSHIP -> {
                in.expectEnd();
                yield () -> {
                    Membership m = service.membership();
                    MetadataCodec.putMembership(reply.ok(), m);
                };
            }
            case MetadataRpcLayout.REPORT_UNREACHABLE -> {
                int node = in.getInt();
                in.expectEnd();
                yield () -> {
                    Membership m = service.reportUnreachable(node);
                    MetadataCodec.putMembership(reply.ok(), m);
                };
            }
            default -> throw new MalformedFrameException("unknown method " + Byte.toUnsignedInt(method));
        };
    }

    /** A reply must fit one frame; the service is never asked for more than that. */
    static void checkScanLimit(int limit) {
        if (limit < 0 || limit > MetadataRpcLayout.MAX_SCAN_LIMIT) {
            throw new IllegalArgumentException("limit=" + limit + " is outside 0..MAX_SCAN_LIMIT="
                    + MetadataRpcLayout.MAX_SCAN_LIMIT);
        }
    }}
