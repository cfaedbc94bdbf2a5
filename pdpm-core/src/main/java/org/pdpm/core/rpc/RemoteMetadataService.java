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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.rdma.api.NodeAddress;

/**
 * A {@link MetadataService} behind a {@link MetadataRpcServer}. Thread-safe: each call takes one of
 * a few connections for its round trip, so that many threads are not serialized behind one slow
 * call. A connection is opened on first use and again on the first call after it broke, so a
 * client outlives a restart of the server without being told.
 *
 * <p>While the server cannot be reached, a call fails with a {@link StoreUnavailableException}
 * naming the server's address and what the call was for; service errors arrive as the exception
 * type and message the server threw. A call is never repeated behind the caller's back: one that
 * broke after it was sent may or may not have been carried out.
 */
public final class RemoteMetadataService implements MetadataService, AutoCloseable {

    /**
     * @param secret      the server's shared secret, or null when it requires none
     * @param connectTimeout bound on TCP connect plus handshake
     * @param callTimeout bound on waiting for one call's result; a server that grants space may
     *                    wait out the grace period of reclaimed blocks before it answers
     * @param connections connections kept open at most: calls beyond that many at once wait
     */
    public record Options(String secret, Duration connectTimeout, Duration callTimeout, int connections) {
        public Options {
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length > MetadataRpcLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + MetadataRpcLayout.MAX_SECRET_BYTES + " bytes");
            }
            checkMillis("connectTimeout", connectTimeout);
            checkMillis("callTimeout", callTimeout);
            if (connections < 1 || connections > MAX_CONNECTIONS) {
                throw new IllegalArgumentException("connections=" + connections + " is outside 1.." + MAX_CONNECTIONS);
            }
        }

        private static void checkMillis(String name, Duration d) {
            if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + "=" + d + " must be positive and at most "
                        + Integer.MAX_VALUE + " ms");
            }
        }

        /** 5 s to connect, 60 s per call, 4 connections. */
        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(60), 4);
        }
    }

    /** A client that needs more metadata connections than this is better served by more clients. */
    public static final int MAX_CONNECTIONS = 64;

    private final NodeAddress server;
    private final Options options;
    private final Channel[] channels;
    /** The pool the first server this client reached serves; a server of another pool is refused. */
    private final AtomicReference<UUID> poolId = new AtomicReference<>();
    private volatile boolean closed;

    public RemoteMetadataService(NodeAddress server, Options options) {
        this.server = Objects.requireNonNull(server, "server");
        this.options = Objects.requireNonNull(options, "options");
        this.channels = new Channel[options.connections()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = new Channel();
        }
    }

    public NodeAddress server() {
        return server;
    }

    @Override
    public PoolLayout pool() {
        return call("learn the pool layout", MetadataRpcLayout.POOL, w -> { }, MetadataCodec::getPool);
    }

    @Override
    public long registerClient() {
        return call("register a client", MetadataRpcLayout.REGISTER, w -> { }, FrameCursor::getLong);
    }

    @Override
    public KeyLocation lookup(byte[] key) {
        checkKey("key", key);
        return call("look up a key", MetadataRpcLayout.LOOKUP, w -> w.putKey(key),
                c -> MetadataCodec.getFlag(c) ? MetadataCodec.getLocation(c) : null);
    }

    @Override
    public KeyLocation create(byte[] key, long head) {
        checkKey("key", key);
        return call("create a key", MetadataRpcLayout.CREATE, w -> w.putKey(key).putLong(head),
                MetadataCodec::getLocation);
    }

    @Override
    public BlockGrant grantBlock(long clientId) {
        return call("get space", MetadataRpcLayout.GRANT, w -> w.putLong(clientId), MetadataCodec::getGrant);
    }

    @Override
    public void sealBlock(long clientId, BlockGrant block, int usedBytes) {
        call("seal a block", MetadataRpcLayout.SEAL, w -> {
            w.putLong(clientId);
            MetadataCodec.putGrant(w, block);
            w.putInt(usedBytes);
        }, c -> null);
    }

    @Override
    public List<KeyLocation> scan(byte[] prefix, byte[] after, int limit) {
        checkKey("prefix", prefix);
        if (after != null) {
            checkKey("after", after);
        }
        MetadataRpcServer.checkScanLimit(limit);
        return call("scan keys", MetadataRpcLayout.SCAN, w -> {
            w.putKey(prefix).putByte(after == null ? 0 : 1);
            if (after != null) {
                w.putKey(after);
            }
            w.putInt(limit);
        }, c -> {
            int n = c.getInt();
            if (n < 0 || n > limit) {
                throw new MalformedFrameException("scan result holds " + n + " keys; " + limit + " were asked for");
            }
            List<KeyLocation> page = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                page.add(MetadataCodec.getLocation(c));
            }
            return page;
        });
    }

    @Override
    public void retire(byte[] key, long superseded, long tail, long tailSeq) {
        checkKey("key", key);
        call("retire a version", MetadataRpcLayout.RETIRE,
                w -> w.putKey(key).putLong(superseded).putLong(tail).putLong(tailSeq), c -> null);
    }

    @Override
    public int createLineage() {
        return call("create a lineage", MetadataRpcLayout.NEW_LINEAGE, w -> { }, FrameCursor::getInt);
    }

    @Override
    public int fork(int lineage, long epoch) {
        return call("fork a lineage", MetadataRpcLayout.FORK, w -> w.putInt(lineage).putLong(epoch),
                FrameCursor::getInt);
    }

    @Override
    public LineageInfo lineage(int lineage) {
        return call("describe a lineage", MetadataRpcLayout.LINEAGE, w -> w.putInt(lineage),
                MetadataCodec::getLineage);
    }

    @Override
    public void dropLineage(int lineage) {
        call("drop a lineage", MetadataRpcLayout.DROP_LINEAGE, w -> w.putInt(lineage), c -> null);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        byte[] utf8 = MetadataCodec.ownerBytes(owner);
        call("pin an epoch", MetadataRpcLayout.PIN,
                w -> MetadataCodec.putOwner(w.putInt(lineage).putLong(epoch), utf8), c -> null);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        byte[] utf8 = MetadataCodec.ownerBytes(owner);
        call("unpin an epoch", MetadataRpcLayout.UNPIN,
                w -> MetadataCodec.putOwner(w.putInt(lineage).putLong(epoch), utf8), c -> null);
    }

    /** Fails with an {@link IllegalStateException} when more pins are held than one reply carries. */
    @Override
    public List<Pin> pins() {
        return call("list the pins", MetadataRpcLayout.PINS, w -> { }, MetadataCodec::getPins);
    }

    @Override
    public Membership membership() {
        return call("learn the membership", MetadataRpcLayout.MEMBERSHIP, w -> { }, MetadataCodec::getMembership);
    }

    @Override
    public Membership reportUnreachable(int node) {
        return call("report node " + node + " unreachable", MetadataRpcLayout.REPORT_UNREACHABLE,
                w -> w.putInt(node), MetadataCodec::getMembership);
    }

    private static void checkKey(String name, byte[] key) {
        Objects.requireNonNull(key, name);
        if (key.length > MetadataRpcLayout.MAX_KEY_BYTES) {
            throw new IllegalArgumentException(name + " length=" + key.length + " exceeds MAX_KEY_BYTES="
                    + MetadataRpcLayout.MAX_KEY_BYTES);
        }
    }

    private interface Arguments {
        void write(FrameWriter w);
    }

    private interface Result<T> {
        T read(FrameCursor c) throws MalformedFrameException;
    }

    private <T> T call(String what, byte method, Arguments arguments, Result<T> result) {
        if (closed) {
            throw new IllegalStateException("the client of the metadata server at " + server + " is closed");
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

    @Override
    public String toString() {
        return "RemoteMetadataService[" + server + "]";
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
                if (!in.read(is, MetadataRpcLayout.MAX_BODY_BYTES)) {
                    throw new IOException("the server closed the connection before answering");
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
                throw RpcErrors.exceptionOf(status, message, "metadata server", server.toString());
            } catch (SocketTimeoutException e) {
                disconnect();
                throw new StoreUnavailableException("the metadata server at " + server + " did not answer within "
                        + options.callTimeout().toMillis() + " ms; could not " + what, e);
            } catch (IOException e) {
                disconnect();
                throw new StoreUnavailableException("the metadata server at " + server
                        + " is unreachable; could not " + what + ": " + e.getMessage(), e);
            } catch (MalformedFrameException e) {
                disconnect();
                throw new StoreUnavailableException("the metadata server at " + server
                        + " sent a malformed answer; could not " + what + ": " + e.getMessage());
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
                int connectMillis = (int) options.connectTimeout().toMillis();
                s.socket().connect(new InetSocketAddress(server.host(), server.port()), connectMillis);
                s.socket().setTcpNoDelay(true);
                s.socket().setSoTimeout(connectMillis);
                InputStream sin = s.socket().getInputStream();
                OutputStream sout = s.socket().getOutputStream();
                byte[] secret = options.secret() == null ? new byte[0] : options.secret().getBytes(StandardCharsets.UTF_8);
                out.begin(MetadataRpcLayout.HELLO).putInt(MetadataRpcLayout.MAGIC).putShort(MetadataRpcLayout.VERSION)
                        .putKey(secret).writeTo(sout);
                if (!in.read(sin, MetadataRpcLayout.MAX_BODY_BYTES)) {
                    throw new IOException("the server closed the connection during the handshake");
                }
                byte type = in.getByte();
                if (type == MetadataRpcLayout.REFUSED) {
                    throw new StoreUnavailableException("the metadata server at " + server + " refused this client: "
                            + in.getText() + "; could not " + what);
                }
                if (type != MetadataRpcLayout.WELCOME) {
                    throw new MalformedFrameException("expected WELCOME, got frame type " + type);
                }
                UUID served = new UUID(in.getLong(), in.getLong());
                in.expectEnd();
                UUID known = poolId.compareAndExchange(null, served);
                if (known != null && !known.equals(served)) {
                    throw new StoreUnavailableException("the metadata server at " + server + " now serves pool "
                            + served + ", not pool " + known + " this client works on; could not " + what);
                }
                s.socket().setSoTimeout((int) options.callTimeout().toMillis());
                socket = s;
                is = sin;
                os = sout;
            } catch (IOException e) {
                closeQuietly(s);
                throw new StoreUnavailableException("the metadata server at " + server + " is unreachable; could not "
                        + what + ": " + e.getMessage(), e);
            } catch (MalformedFrameException e) {
                closeQuietly(s);
                throw new StoreUnavailableException("the metadata server at " + server + " is not a pDPM metadata"
                        + " server (" + e.getMessage() + "); could not " + what);
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
