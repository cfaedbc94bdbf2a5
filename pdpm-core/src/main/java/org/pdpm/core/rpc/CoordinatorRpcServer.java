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
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.central.CoordinatorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link CoordinatorService} (pDPM-Central's coordinator) to {@link RemoteCoordinator}
 * clients over TCP, in the frames of {@link CoordinatorRpcLayout}. Each connection gets one
 * thread, which answers its calls one at a time; the coordinator's per-key locks serialize what
 * must be serialized. Clients present the shared secret first.
 */
public final class CoordinatorRpcServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorRpcServer.class);
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final int STOP_WAIT_MILLIS = 5_000;

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

    private final CoordinatorService service;
    private final Config config;
    private final UUID poolId;
    private final ServerSocket server;
    private final InetSocketAddress bound;
    private final Thread acceptor;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong callsExecuted = new AtomicLong();

    private CoordinatorRpcServer(CoordinatorService service, Config config, ServerSocket server) {
        this.service = service;
        this.config = config;
        this.poolId = service.info().poolId();
        this.server = server;
        this.bound = (InetSocketAddress) server.getLocalSocketAddress();
        this.acceptor = new Thread(this::acceptLoop, "pdpm-coordinator-accept");
    }

    /** Listens on {@code config.listen()} and serves {@code service}, which stays the caller's to close. */
    public static CoordinatorRpcServer start(CoordinatorService service, Config config) throws IOException {
        Objects.requireNonNull(service, "service");
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(config.listen(), 128);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
        CoordinatorRpcServer s = new CoordinatorRpcServer(service, config, server);
        if (config.secret() == null) {
            LOG.warn("no secret configured: any client that reaches {} may read and write every key", s.boundAddress());
        }
        s.acceptor.start();
        LOG.info("coordinator for pool {} serving on {}", s.poolId, s.boundAddress());
        return s;
    }

    public InetSocketAddress boundAddress() {
        return bound;
    }

    /** Clients currently connected. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Calls parsed whole and handed to the coordinator since the server started. */
    public long callsExecuted() {
        return callsExecuted.get();
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
                Thread t = new Thread(session, "pdpm-coordinator-session-" + sessionIds.incrementAndGet());
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

    private void refuseBusy(Socket s) {
        try (s) {
            new FrameWriter().begin(CoordinatorRpcLayout.REFUSED)
                    .putText("too many connections: this coordinator serves at most " + config.maxConnections(),
                            CoordinatorRpcLayout.MAX_MESSAGE_BYTES)
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
        LOG.info("coordinator on {} stopped", bound);
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
                while (in.read(is, CoordinatorRpcLayout.MAX_BODY_BYTES)) {
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
            if (!in.read(is, CoordinatorRpcLayout.MAX_HELLO_BYTES)) {
                return false;
            }
            if (in.getByte() != CoordinatorRpcLayout.HELLO || in.getInt() != CoordinatorRpcLayout.MAGIC) {
                return refuse(os, peer, "not a pDPM-Central client (expected HELLO)");
            }
            int version = in.getUnsignedShort();
            if (version != CoordinatorRpcLayout.VERSION) {
                return refuse(os, peer, "protocol version " + version + " is not served; this coordinator speaks version "
                        + CoordinatorRpcLayout.VERSION);
            }
            byte[] presented = in.getKey();
            in.expectEnd();
            byte[] secret = config.secret() == null ? null : config.secret().getBytes(StandardCharsets.UTF_8);
            if (secret != null && !MessageDigest.isEqual(secret, presented)) {
                return refuse(os, peer, "wrong secret");
            }
            out.begin(CoordinatorRpcLayout.WELCOME).putLong(poolId.getMostSignificantBits())
                    .putLong(poolId.getLeastSignificantBits()).writeTo(os);
            return true;
        }

        private boolean refuse(OutputStream os, String peer, String reason) throws IOException {
            out.begin(CoordinatorRpcLayout.REFUSED).putText(reason, CoordinatorRpcLayout.MAX_MESSAGE_BYTES).writeTo(os);
            LOG.warn("refused {}: {}", peer, reason);
            return false;
        }

        /** Parses the whole call before executing it, so a malformed one changes nothing. */
        private void answer() throws MalformedFrameException {
            if (in.getByte() != CoordinatorRpcLayout.CALL) {
                throw new MalformedFrameException("expected a CALL frame after the handshake");
            }
            byte method = in.getByte();
            Runnable reply = switch (method) {
                case CoordinatorRpcLayout.INFO -> {
                    in.expectEnd();
                    yield () -> {
                        CoordinatorService.Info i = service.info();
                        ok().putLong(i.poolId().getMostSignificantBits()).putLong(i.poolId().getLeastSignificantBits())
                                .putInt(i.nodeCount()).putInt(i.replication()).putInt(i.limits().maxKeyBytes())
                                .putInt(i.limits().maxValueBytes());
                    };
                }
                case CoordinatorRpcLayout.GET -> {
                    byte[] key = in.getKey();
                    in.expectEnd();
                    yield () -> {
                        CoordinatorService.Read r = service.get(key);
                        FrameWriter w = ok().putByte(r.value() == null ? 0 : 1);
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
                    yield () -> CoordinatorCodec.putCost(ok(), service.put(key, value));
                }
                case CoordinatorRpcLayout.DELETE -> {
                    byte[] key = in.getKey();
                    in.expectEnd();
                    yield () -> CoordinatorCodec.putCost(ok(), service.delete(key));
                }
                case CoordinatorRpcLayout.SCAN -> {
                    byte[] prefix = in.getKey();
                    byte[] after = MetadataCodec.getFlag(in) ? in.getKey() : null;
                    int limit = in.getInt();
                    in.expectEnd();
                    yield () -> {
                        CoordinatorService.Page page = service.scan(prefix, after, limit);
                        FrameWriter w = ok().putByte(page.more() ? 1 : 0).putInt(page.entries().size());
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
                        FrameWriter w = ok().putLong(m.version()).putInt(m.outNodes().size());
                        for (int n : m.outNodes()) {
                            w.putInt(n);
                        }
                    };
                }
                default -> throw new MalformedFrameException("unknown method " + Byte.toUnsignedInt(method));
            };
            callsExecuted.incrementAndGet();
            try {
                reply.run();
            } catch (RuntimeException e) {
                LOG.debug("call {} failed", method, e);
                out.begin(CoordinatorRpcLayout.RESULT).putByte(CoordinatorCodec.kindOf(e))
                        .putText(CoordinatorCodec.messageOf(e), CoordinatorRpcLayout.MAX_MESSAGE_BYTES);
            }
        }

        private FrameWriter ok() {
            return out.begin(CoordinatorRpcLayout.RESULT).putByte(CoordinatorRpcLayout.OK);
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
}
