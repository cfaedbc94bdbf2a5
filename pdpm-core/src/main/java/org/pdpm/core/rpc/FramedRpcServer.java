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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the metadata server's and the coordinator's RPC fronts share: a listening socket, one thread
 * per connection up to a limit, the HELLO/WELCOME handshake with the shared secret, and CALL frames
 * parsed whole before they run, answered by a RESULT frame (OK, or an error kind and message). The
 * frame codes are {@link MetadataRpcLayout}'s for both; a {@link Protocol} tells the two apart.
 */
abstract class FramedRpcServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FramedRpcServer.class);
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final int STOP_WAIT_MILLIS = 5_000;

    /**
     * @param serverName  how logs name the server ("metadata server", "coordinator")
     * @param selfName    how its refusals name it ("server", "coordinator")
     * @param clientName  what a client of it is called in a refusal
     * @param threadName  prefix of its threads' names
     * @param maxBodyBytes the largest frame body it reads after the handshake
     */
    record Protocol(String serverName, String selfName, String clientName, String threadName, int magic, int version,
                    int maxBodyBytes) {}

    /** Where a parsed call writes its answer. */
    interface Reply {
        /** Begins an OK result; the call appends its fields. */
        FrameWriter ok();
    }

    private final Protocol protocol;
    private final String secret;
    private final int maxConnections;
    private final UUID poolId;
    private final ServerSocket server;
    private final InetSocketAddress bound;
    private final Thread acceptor;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong callsExecuted = new AtomicLong();

    FramedRpcServer(Protocol protocol, String secret, int maxConnections, UUID poolId, ServerSocket server) {
        this.protocol = protocol;
        this.secret = secret;
        this.maxConnections = maxConnections;
        this.poolId = poolId;
        this.server = server;
        this.bound = (InetSocketAddress) server.getLocalSocketAddress();
        this.acceptor = new Thread(this::acceptLoop, protocol.threadName() + "-accept");
    }

    /** A socket listening on {@code listen}, or an IOException naming the address. */
    static ServerSocket listen(InetSocketAddress listen) throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(listen, 128);
            return server;
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
        }
    }

    /** Starts accepting; {@code openAccess} is what a client could do when no secret is set. */
    final void serve(String openAccess) {
        if (secret == null) {
            LOG.warn("no secret configured: any client that reaches {} {}", bound, openAccess);
        }
        acceptor.start();
        LOG.info("{} for pool {} serving on {}", protocol.serverName(), poolId, bound);
    }

    /**
     * Parses one call's arguments (after its method byte) and returns what answers it through
     * {@code reply}; a malformed call throws before anything runs.
     */
    abstract Runnable parse(byte method, FrameCursor in, Reply reply) throws MalformedFrameException;

    public InetSocketAddress boundAddress() {
        return bound;
    }

    /** Clients currently connected. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Calls parsed whole and handed to the service since the server started. */
    public long callsExecuted() {
        return callsExecuted.get();
    }

    private void acceptLoop() {
        try {
            while (!closed.get()) {
                Socket s = server.accept();
                if (sessions.size() >= maxConnections) {
                    refuseBusy(s);
                    continue;
                }
                Session session = new Session(s);
                sessions.add(session);
                Thread t = new Thread(session, protocol.threadName() + "-session-" + sessionIds.incrementAndGet());
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
                    .putText("too many connections: this " + protocol.selfName() + " serves at most " + maxConnections,
                            MetadataRpcLayout.MAX_MESSAGE_BYTES)
                    .writeTo(s.getOutputStream());
        } catch (IOException e) {
            LOG.debug("refusing a connection over the limit failed", e);
        }
        LOG.warn("refused {}: {} connections already served", s.getRemoteSocketAddress(), maxConnections);
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
        LOG.info("{} on {} stopped", protocol.serverName(), bound);
        terminated.countDown();
    }

    /** One client connection: handshake, then calls in, results out. */
    private final class Session implements Runnable, Reply {
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
                while (in.read(is, protocol.maxBodyBytes())) {
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
            if (in.getByte() != MetadataRpcLayout.HELLO || in.getInt() != protocol.magic()) {
                return refuse(os, peer, "not a " + protocol.clientName() + " (expected HELLO)");
            }
            int version = in.getUnsignedShort();
            if (version != protocol.version()) {
                return refuse(os, peer, "protocol version " + version + " is not served; this "
                        + protocol.selfName() + " speaks version " + protocol.version());
            }
            byte[] presented = in.getKey();
            in.expectEnd();
            byte[] expected = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
            if (expected != null && !MessageDigest.isEqual(expected, presented)) {
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
            Runnable reply = parse(method, in, this);
            callsExecuted.incrementAndGet();
            try {
                reply.run();
            } catch (RuntimeException e) {
                LOG.debug("call {} failed", method, e);
                out.begin(MetadataRpcLayout.RESULT).putByte(RpcErrors.kindOf(e))
                        .putText(RpcErrors.messageOf(e, protocol.serverName()), MetadataRpcLayout.MAX_MESSAGE_BYTES);
            }
        }

        @Override
        public FrameWriter ok() {
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
}
