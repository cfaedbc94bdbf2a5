package org.pdpm.core.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.clover.MetadataService.BlockGrant;
import org.pdpm.core.clover.MetadataService.KeyLocation;
import org.pdpm.core.clover.MetadataService.LineageInfo;
import org.pdpm.core.clover.MetadataService.Membership;
import org.pdpm.core.clover.MetadataService.Pin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link MetadataService} to {@link RemoteMetadataService} clients over TCP, in the frames
 * of {@link MetadataRpcLayout}. Each connection gets one thread, which answers its calls one at a
 * time; the service itself serializes what must be serialized. Clients present the shared secret
 * first, as they do to the memory nodes.
 */
public final class MetadataRpcServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataRpcServer.class);
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final int STOP_WAIT_MILLIS = 5_000;

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

    /** Enough for a few hundred compute-node clients of a few connections each. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    private final MetadataService service;
    private final Config config;
    private final UUID poolId;
    private final ServerSocket server;
    private final InetSocketAddress bound;
    private final Thread acceptor;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong sessionIds = new AtomicLong();

    private MetadataRpcServer(MetadataService service, Config config, ServerSocket server) {
        this.service = service;
        this.config = config;
        this.poolId = service.pool().poolId();
        this.server = server;
        this.bound = (InetSocketAddress) server.getLocalSocketAddress();
        this.acceptor = new Thread(this::acceptLoop, "pdpm-metaserver-accept");
    }

    /** Listens on {@code config.listen()} and starts serving {@code service}, which stays the caller's to close. */
    public static MetadataRpcServer start(MetadataService service, Config config) throws IOException {
        Objects.requireNonNull(service, "service");
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(config.listen(), 128);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
        MetadataRpcServer s = new MetadataRpcServer(service, config, server);
        if (config.secret() == null) {
            LOG.warn("no secret configured: any client that reaches {} may allocate space and create keys",
                    s.boundAddress());
        }
        s.acceptor.start();
        LOG.info("metadata server for pool {} serving on {}", s.poolId, s.boundAddress());
        return s;
    }

    public InetSocketAddress boundAddress() {
        return bound;
    }

    /** Clients currently connected. */
    public int sessionCount() {
        return sessions.size();
    }

    private void acceptLoop() {
        try {
            while (!closed.get()) {
                Socket s = server.accept();
                if (sessions.size() >= config.maxConnections()) {
                    refuseBusy(s);
                    continue;
                }
                Session session = new Session(s);
                sessions.add(session);
                Thread t = new Thread(session, "pdpm-metaserver-session-" + sessionIds.incrementAndGet());
                t.setDaemon(true);
                t.start();
            }
        } catch (SocketException e) {
            if (!closed.get()) {
                LOG.error("accepting connections failed", e);
            }
        } catch (IOException e) {
            LOG.error("accepting connections failed", e);
        }
    }

    /** A REFUSED frame is a few bytes into an empty send buffer: writing it cannot block the acceptor. */
    private void refuseBusy(Socket s) {
        try (s) {
            new FrameWriter().begin(MetadataRpcLayout.REFUSED)
                    .putText("too many connections: this server serves at most " + config.maxConnections(),
                            MetadataRpcLayout.MAX_MESSAGE_BYTES)
                    .writeTo(s.getOutputStream());
        } catch (IOException e) {
            LOG.debug("refusing a connection over the limit failed", e);
        }
        LOG.warn("refused {}: {} connections already served", s.getRemoteSocketAddress(), config.maxConnections());
    }

    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Stops accepting and closes every connection; calls being answered finish first. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing the listening socket failed", e);
        }
        for (Session s : sessions) {
            s.close();
        }
        try {
            acceptor.join(STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Session s : sessions) {
            s.awaitStopped();
        }
        LOG.info("metadata server on {} stopped", bound);
        terminated.countDown();
    }

    /** One client connection: handshake, then calls in, results out. */
    private final class Session implements Runnable {
        private final Socket socket;
        private final FrameCursor in = new FrameCursor();
        private final FrameWriter out = new FrameWriter();
        private final CountDownLatch stopped = new CountDownLatch(1);

        Session(Socket socket) {
            this.socket = socket;
        }

        @Override
        public void run() {
            String peer = String.valueOf(socket.getRemoteSocketAddress());
            try (socket) {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
                InputStream is = socket.getInputStream();
                OutputStream os = socket.getOutputStream();
                if (!handshake(is, os, peer)) {
                    return;
                }
                socket.setSoTimeout(0);
                while (in.read(is, MetadataRpcLayout.MAX_BODY_BYTES)) {
                    answer();
                    out.writeTo(os);
                }
            } catch (MalformedFrameException e) {
                LOG.warn("closing connection from {}: malformed frame: {}", peer, e.getMessage());
            } catch (SocketTimeoutException e) {
                LOG.warn("closing connection from {}: no HELLO within {} ms", peer, HANDSHAKE_TIMEOUT_MILLIS);
            } catch (IOException e) {
                LOG.debug("connection from {} ended: {}", peer, e.toString());
            } catch (RuntimeException e) {
                LOG.error("connection from {} failed unexpectedly; closing it", peer, e);
            } finally {
                sessions.remove(this);
                stopped.countDown();
            }
        }

        private boolean handshake(InputStream is, OutputStream os, String peer) throws IOException, MalformedFrameException {
            // Bounded by the HELLO's size, so an unauthenticated peer cannot make us allocate much.
            if (!in.read(is, MetadataRpcLayout.MAX_HELLO_BYTES)) {
                return false;
            }
            if (in.getByte() != MetadataRpcLayout.HELLO || in.getInt() != MetadataRpcLayout.MAGIC) {
                return refuse(os, peer, "not a pDPM metadata client (expected HELLO)");
            }
            int version = in.getUnsignedShort();
            if (version != MetadataRpcLayout.VERSION) {
                return refuse(os, peer, "protocol version " + version + " is not served; this server speaks version "
                        + MetadataRpcLayout.VERSION);
            }
            byte[] presented = in.getKey();
            in.expectEnd();
            byte[] secret = config.secret() == null ? null : config.secret().getBytes(StandardCharsets.UTF_8);
            if (secret != null && !MessageDigest.isEqual(secret, presented)) {
                return refuse(os, peer, "wrong secret");
            }
            out.begin(MetadataRpcLayout.WELCOME).putLong(poolId.getMostSignificantBits())
                    .putLong(poolId.getLeastSignificantBits()).writeTo(os);
            return true;
        }

        private boolean refuse(OutputStream os, String peer, String reason) throws IOException {
            out.begin(MetadataRpcLayout.REFUSED).putText(reason, MetadataRpcLayout.MAX_MESSAGE_BYTES).writeTo(os);
            LOG.warn("refused {}: {}", peer, reason);
            return false;
        }

        /** Parses the whole call before executing it, so a malformed one changes nothing. */
        private void answer() throws MalformedFrameException {
            if (in.getByte() != MetadataRpcLayout.CALL) {
                throw new MalformedFrameException("expected a CALL frame after the handshake");
            }
            byte method = in.getByte();
            Runnable reply = switch (method) {
                case MetadataRpcLayout.POOL -> {
                    in.expectEnd();
                    yield () -> MetadataCodec.putPool(ok(), service.pool());
                }
                case MetadataRpcLayout.REGISTER -> {
                    in.expectEnd();
                    yield () -> {
                        long id = service.registerClient();
                        ok().putLong(id);
                    };
                }
                case MetadataRpcLayout.LOOKUP -> {
                    byte[] key = in.getKey();
                    in.expectEnd();
                    yield () -> {
                        KeyLocation l = service.lookup(key);
                        ok().putByte(l == null ? 0 : 1);
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
                        MetadataCodec.putLocation(ok(), l);
                    };
                }
                case MetadataRpcLayout.GRANT -> {
                    long clientId = in.getLong();
                    in.expectEnd();
                    yield () -> {
                        BlockGrant g = service.grantBlock(clientId);
                        MetadataCodec.putGrant(ok(), g);
                    };
                }
                case MetadataRpcLayout.SEAL -> {
                    long clientId = in.getLong();
                    BlockGrant g = MetadataCodec.getGrant(in);
                    int usedBytes = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        service.sealBlock(clientId, g, usedBytes);
                        ok();
                    };
                }
                case MetadataRpcLayout.SCAN -> {
                    byte[] prefix = in.getKey();
                    byte[] after = MetadataCodec.getFlag(in) ? in.getKey() : null;
                    int limit = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        checkScanLimit(limit);
                        List<KeyLocation> page = service.scan(prefix, after, limit);
                        ok().putInt(page.size());
                        for (KeyLocation l : page) {
                            MetadataCodec.putLocation(out, l);
                        }
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
                        ok();
                    };
                }
                case MetadataRpcLayout.NEW_LINEAGE -> {
                    in.expectEnd();
                    yield () -> {
                        int id = service.createLineage();
                        ok().putInt(id);
                    };
                }
                case MetadataRpcLayout.FORK -> {
                    int lineage = in.getInt();
                    long epoch = in.getLong();
                    in.expectEnd();
                    yield () -> {
                        int id = service.fork(lineage, epoch);
                        ok().putInt(id);
                    };
                }
                case MetadataRpcLayout.LINEAGE -> {
                    int lineage = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        LineageInfo l = service.lineage(lineage);
                        MetadataCodec.putLineage(ok(), l);
                    };
                }
                case MetadataRpcLayout.DROP_LINEAGE -> {
                    int lineage = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        service.dropLineage(lineage);
                        ok();
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
                        ok();
                    };
                }
                case MetadataRpcLayout.PINS -> {
                    in.expectEnd();
                    yield () -> {
                        List<Pin> pins = service.pins();
                        MetadataCodec.putPins(ok(), pins);
                    };
                }
                case MetadataRpcLayout.MEMBERSHIP -> {
                    in.expectEnd();
                    yield () -> {
                        Membership m = service.membership();
                        MetadataCodec.putMembership(ok(), m);
                    };
                }
                case MetadataRpcLayout.REPORT_UNREACHABLE -> {
                    int node = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        Membership m = service.reportUnreachable(node);
                        MetadataCodec.putMembership(ok(), m);
                    };
                }
                default -> throw new MalformedFrameException("unknown method " + Byte.toUnsignedInt(method));
            };
            try {
                reply.run();
            } catch (RuntimeException e) {
                LOG.debug("call {} failed", method, e);
                out.begin(MetadataRpcLayout.RESULT).putByte(MetadataCodec.kindOf(e))
                        .putText(MetadataCodec.messageOf(e), MetadataRpcLayout.MAX_MESSAGE_BYTES);
            }
        }

        private FrameWriter ok() {
            return out.begin(MetadataRpcLayout.RESULT).putByte(MetadataRpcLayout.OK);
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing a session socket failed", e);
            }
        }

        void awaitStopped() {
            try {
                stopped.await(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A reply must fit one frame; the service is never asked for more than that. */
    static void checkScanLimit(int limit) {
        if (limit < 0 || limit > MetadataRpcLayout.MAX_SCAN_LIMIT) {
            throw new IllegalArgumentException("limit=" + limit + " is outside 0..MAX_SCAN_LIMIT="
                    + MetadataRpcLayout.MAX_SCAN_LIMIT);
        }
    }
}
