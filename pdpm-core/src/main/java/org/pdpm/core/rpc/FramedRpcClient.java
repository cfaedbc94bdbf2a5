package org.pdpm.core.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.NodeAddress;

/**
 * The client side of {@link FramedRpcServer}, shared by the metadata server's and the coordinator's
 * clients: a few connections, each used by one call at a time; the HELLO/WELCOME handshake with the
 * shared secret, which also pins the pool the first server served; CALL frames answered by a RESULT.
 * Every failure is a {@link StoreUnavailableException} naming the server and what the call was for;
 * the server's own errors arrive as the exception it threw ({@link RpcErrors}). A call is never
 * repeated behind the caller's back.
 */
final class FramedRpcClient implements AutoCloseable {

    /**
     * Whom a client talks to.
     *
     * @param name what messages call the server ("metadata server")
     * @param kind what a server that fails the handshake is not ("pDPM metadata server")
     */
    record Peer(String name, String kind, int magic, short version, int maxBodyBytes) {}

    interface Arguments {
        void write(FrameWriter w);
    }

    interface Result<T> {
        T read(FrameCursor c) throws MalformedFrameException;
    }

    private final Peer peer;
    private final NodeAddress server;
    private final String secret;
    private final Duration connectTimeout;
    private final Duration callTimeout;
    private final Channel[] channels;
    /** The pool the first server this client reached serves; a server of another pool is refused. */
    private final AtomicReference<UUID> poolId = new AtomicReference<>();
    private volatile boolean closed;

    FramedRpcClient(Peer peer, NodeAddress server, String secret, Duration connectTimeout, Duration callTimeout,
                    int connections) {
        this.peer = Objects.requireNonNull(peer, "peer");
        this.server = Objects.requireNonNull(server, "server");
        this.secret = secret;
        this.connectTimeout = connectTimeout;
        this.callTimeout = callTimeout;
        this.channels = new Channel[connections];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = new Channel();
        }
    }

    <T> T call(String what, byte method, Arguments arguments, Result<T> result) {
        if (closed) {
            throw new IllegalStateException("the client of the " + peer.name() + " at " + server + " is closed");
        }
        Channel ch = acquire();
        try {
            return ch.call(what, method, arguments, result);
        } finally {
            ch.lock.unlock();
        }
    }

    /** A free connection if there is one, else the one this thread maps to. */
    private Channel acquire() {
        for (Channel ch : channels) {
            if (ch.lock.tryLock()) {
                return ch;
            }
        }
        Channel ch = channels[(int) Math.floorMod(Thread.currentThread().getId(), (long) channels.length)];
        ch.lock.lock();
        return ch;
    }

    /** Closes every connection; calls made afterwards fail. */
    @Override
    public void close() {
        closed = true;
        for (Channel ch : channels) {
            ch.lock.lock();
            try {
                ch.disconnect();
            } finally {
                ch.lock.unlock();
            }
        }
    }

    private String at() {
        return "the " + peer.name() + " at " + server;
    }

    /** One connection, used by one call at a time (its lock held). */
    private final class Channel {
        final ReentrantLock lock = new ReentrantLock();
        private final FrameWriter out = new FrameWriter();
        private final FrameCursor in = new FrameCursor();
        private final ByteBuffer probe = ByteBuffer.allocate(1);
        private SocketChannel socket;
        private InputStream is;
        private OutputStream os;

        <T> T call(String what, byte method, Arguments arguments, Result<T> result) {
            if (socket != null && brokenWhileIdle()) {
                disconnect();
            }
            if (socket == null) {
                connect(what);
            }
            try {
                out.begin(MetadataRpcLayout.CALL).putByte(method);
                arguments.write(out);
                out.writeTo(os);
                if (!in.read(is, peer.maxBodyBytes())) {
                    throw new IOException("the " + peer.name() + " closed the connection before answering");
                }
                if (in.getByte() != MetadataRpcLayout.RESULT) {
                    throw new MalformedFrameException("expected a RESULT frame");
                }
                byte status = in.getByte();
                if (status == MetadataRpcLayout.OK) {
                    T value = result.read(in);
                    in.expectEnd();
                    return value;
                }
                String message = in.getText();
                in.expectEnd();
                throw RpcErrors.exceptionOf(status, message, peer.name(), server.toString());
            } catch (SocketTimeoutException e) {
                disconnect();
                throw new StoreUnavailableException(at() + " did not answer within " + callTimeout.toMillis()
                        + " ms; could not " + what, e);
            } catch (IOException e) {
                disconnect();
                throw new StoreUnavailableException(at() + " is unreachable; could not " + what + ": "
                        + e.getMessage(), e);
            } catch (MalformedFrameException e) {
                disconnect();
                throw new StoreUnavailableException(at() + " sent a malformed answer; could not " + what + ": "
                        + e.getMessage());
            }
        }

        /**
         * Between calls the server sends nothing, so an idle connection with anything to read has
         * been closed (the server stopped or restarted) or is out of step. Checking before each call
         * lets the first call after a restart go to the new server instead of failing on the old
         * connection.
         */
        private boolean brokenWhileIdle() {
            try {
                socket.configureBlocking(false);
                try {
                    probe.clear();
                    return socket.read(probe) != 0;
                } finally {
                    socket.configureBlocking(true);
                }
            } catch (IOException e) {
                return true;
            }
        }

        private void connect(String what) {
            SocketChannel s = null;
            try {
                s = SocketChannel.open();
                int connectMillis = (int) connectTimeout.toMillis();
                s.socket().connect(new InetSocketAddress(server.host(), server.port()), connectMillis);
                s.socket().setTcpNoDelay(true);
                s.socket().setSoTimeout(connectMillis);
                InputStream sin = s.socket().getInputStream();
                OutputStream sout = s.socket().getOutputStream();
                byte[] key = secret == null ? new byte[0] : secret.getBytes(StandardCharsets.UTF_8);
                out.begin(MetadataRpcLayout.HELLO).putInt(peer.magic()).putShort(peer.version()).putKey(key)
                        .writeTo(sout);
                if (!in.read(sin, peer.maxBodyBytes())) {
                    throw new IOException("the " + peer.name() + " closed the connection during the handshake");
                }
                byte type = in.getByte();
                if (type == MetadataRpcLayout.REFUSED) {
                    throw new StoreUnavailableException(at() + " refused this client: " + in.getText()
                            + "; could not " + what);
                }
                if (type != MetadataRpcLayout.WELCOME) {
                    throw new MalformedFrameException("expected WELCOME, got frame type " + type);
                }
                UUID served = new UUID(in.getLong(), in.getLong());
                in.expectEnd();
                UUID known = poolId.compareAndExchange(null, served);
                if (known != null && !known.equals(served)) {
                    throw new StoreUnavailableException(at() + " now serves pool " + served + ", not pool " + known
                            + " this client works on; could not " + what);
                }
                s.socket().setSoTimeout((int) callTimeout.toMillis());
                socket = s;
                is = sin;
                os = sout;
            } catch (IOException e) {
                closeQuietly(s);
                throw new StoreUnavailableException(at() + " is unreachable; could not " + what + ": "
                        + e.getMessage(), e);
            } catch (MalformedFrameException e) {
                closeQuietly(s);
                throw new StoreUnavailableException(at() + " is not a " + peer.kind() + " (" + e.getMessage()
                        + "); could not " + what);
            } catch (RuntimeException e) {
                closeQuietly(s);
                throw e;
            }
        }

        void disconnect() {
            closeQuietly(socket);
            socket = null;
            is = null;
            os = null;
        }
    }

    private static void closeQuietly(SocketChannel s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // Nothing was pending on it that the caller could still use.
            }
        }
    }
}
