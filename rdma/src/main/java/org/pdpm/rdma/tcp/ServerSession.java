package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.memory.VerbExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One client connection on the memory node: handshake, then batches in, completions out. */
final class ServerSession implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ServerSession.class);
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    /** After answering, poll this long for the client's next frame before blocking (see FrameReader). */
    private static final long POLL_NANOS = 50_000;

    private final Socket socket;
    private final VerbExecutor executor;
    private final byte[] secret;
    private final Consumer<ServerSession> onClose;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Batch batch = new Batch(64);
    private final FrameBuffer out = new FrameBuffer(64 << 10);

    ServerSession(Socket socket, VerbExecutor executor, String secret, Consumer<ServerSession> onClose) {
        this.socket = socket;
        this.executor = executor;
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.onClose = onClose;
    }

    @Override
    public void run() {
        String peer = String.valueOf(socket.getRemoteSocketAddress());
        try (socket) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            InputStream in = socket.getInputStream();
            OutputStream os = socket.getOutputStream();
            FrameReader reader = new FrameReader(ByteSource.of(in), 256 << 10, WireLayout.MAX_BODY_BYTES, POLL_NANOS);
            if (!handshake(reader, os, peer)) {
                return;
            }
            socket.setSoTimeout(0);
            serve(reader, os);
        } catch (MalformedFrameException e) {
            LOG.warn("closing connection from {}: malformed frame: {}", peer, e.getMessage());
        } catch (SocketTimeoutException e) {
            LOG.warn("closing connection from {}: no HELLO within {} ms", peer, HANDSHAKE_TIMEOUT_MILLIS);
        } catch (IOException e) {
            LOG.debug("connection from {} ended: {}", peer, e.toString());
        } catch (RuntimeException e) {
            LOG.error("connection from {} failed unexpectedly; closing it", peer, e);
        } finally {
            onClose.accept(this);
            stopped.countDown();
        }
    }

    private boolean handshake(FrameReader reader, OutputStream os, String peer) throws IOException, MalformedFrameException {
        while (!reader.nextBuffered()) {
            if (!reader.fill()) {
                return false;
            }
        }
        byte[] b = reader.buffer();
        int at = reader.bodyOffset();
        int len = reader.bodyLength();
        if (len < 9 || b[at] != WireLayout.HELLO || FrameBuffer.getInt(b, at + 1) != WireLayout.MAGIC) {
            refuse(os, "not a pDPM client (expected HELLO)");
            LOG.warn("refused {}: not a pDPM client", peer);
            return false;
        }
        int version = FrameBuffer.getUnsignedShort(b, at + 5);
        if (version != WireLayout.VERSION) {
            refuse(os, "protocol version " + version + " is not served; this node speaks version " + WireLayout.VERSION);
            LOG.warn("refused {}: protocol version {}", peer, version);
            return false;
        }
        int n = FrameBuffer.getUnsignedShort(b, at + 7);
        if (n > WireLayout.MAX_SECRET_BYTES || 9 + n != len) {
            throw new MalformedFrameException("HELLO secret length " + n + " does not fit the frame");
        }
        byte[] presented = new byte[n];
        System.arraycopy(b, at + 9, presented, 0, n);
        if (secret != null && !MessageDigest.isEqual(secret, presented)) {
            refuse(os, "wrong secret");
            LOG.warn("refused {}: wrong secret", peer);
            return false;
        }
        var info = executor.node().info();
        int frame = out.beginFrame();
        out.putByte(WireLayout.WELCOME);
        out.putText(info.nodeId(), 256);
        out.putShort(info.regions().size());
        for (RemoteRegion r : info.regions()) {
            out.putInt(r.regionId());
            out.putLong(r.sizeBytes());
            out.putInt(r.rkey());
        }
        out.endFrame(frame);
        os.write(out.array(), 0, out.length());
        out.clear();
        return true;
    }

    private void refuse(OutputStream os, String reason) throws IOException {
        int frame = out.beginFrame();
        out.putByte(WireLayout.REFUSED);
        out.putText(reason, WireLayout.MAX_REASON_BYTES);
        out.endFrame(frame);
        os.write(out.array(), 0, out.length());
        out.clear();
    }

    private void serve(FrameReader reader, OutputStream os) throws IOException, MalformedFrameException {
        while (true) {
            while (reader.nextBuffered()) {
                byte[] b = reader.buffer();
                int at = reader.bodyOffset();
                if (b[at] != WireLayout.BATCH) {
                    throw new MalformedFrameException("unexpected frame type " + b[at] + " after the handshake");
                }
                BatchCodec.decodeBatch(b, at + 1, reader.bodyLength() - 1, batch);
                try {
                    BatchCodec.executeIntoDone(batch, executor, out);
                } catch (FabricException e) {
                    BatchCodec.encodeFailed(e, out);
                }
                batch.clear();
                if (out.length() >= (1 << 20)) {
                    flush(os);
                }
            }
            flush(os);
            if (!reader.fillPolling()) {
                return;
            }
        }
    }

    private void flush(OutputStream os) throws IOException {
        if (out.length() > 0) {
            os.write(out.array(), 0, out.length());
            out.clear();
        }
    }

    void close() {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("closing a session socket failed", e);
        }
    }

    void awaitStopped(long millis) {
        try {
            stopped.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
