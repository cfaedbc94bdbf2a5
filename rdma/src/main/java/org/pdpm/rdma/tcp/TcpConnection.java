package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Completions;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * A pipelined connection to a memory node. Any number of batches may be in flight; the node answers
 * them in order, so completions are matched first-in first-out.
 *
 * <p>Sending coalesces without delaying any request: a batch posted while no thread is writing is
 * written by the posting thread at once (handing it to another thread would cost a wake-up); one
 * posted while a write is under way is queued and taken along by that writer's next write.
 * Batches posted from completion callbacks — the natural place for a client that keeps many
 * requests in flight — are queued and written together when the thread reading answers has handled
 * every completion it received, so such a client pays one system call per burst, not per request.
 * The reader only writes while the answers it still awaits fit the socket's receive buffer, so it
 * can never block on a node that is itself blocked writing to it; beyond that, a sender thread
 * does the write.
 *
 * <p>Receiving: one thread reads the socket at a time. A thread that {@link #await}s a batch reads
 * for itself for a while, and the reader thread stands aside meanwhile, so a synchronous client
 * pays no hand-off from the reader per request; whoever reads completes every answer it finds, in
 * order, and runs their callbacks.
 */
final class TcpConnection implements Connection {

    private final NodeAddress address;
    private final ClientChannel socket;
    private final NodeInfo info;
    private final long timeoutNanos;
    private final Consumer<TcpConnection> onClose;
    private final TrafficCounter stats = new TrafficCounter();

    private final Object lock = new Object();
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    private FrameBuffer outgoing = new FrameBuffer(64 << 10);
    private FrameBuffer sending = new FrameBuffer(64 << 10);
    private boolean writing;
    private long awaitedResponseBytes;
    private FabricException broken;

    private final FrameReader frames;
    /** The one thread reading the socket at a time: the reader, or a waiter collecting its own answer. */
    private final AtomicReference<Thread> readOwner = new AtomicReference<>();
    /** Threads waiting in {@link #await} that read the socket themselves; guarded by {@code lock}. */
    private int waitersReading;
    /** True while the reader stands aside for waiters; guarded by {@code lock}. */
    private boolean readerAside;

    private final Thread reader;
    private final Thread sender;
    private final AtomicBoolean sendSignal = new AtomicBoolean();
    private volatile boolean closed;

    /** Receive buffer we ask for; the reader writes only while awaited answers fit well inside it. */
    private static final int RECEIVE_BUFFER_BYTES = 1 << 20;
    private static final long READER_WRITE_LIMIT_BYTES = RECEIVE_BUFFER_BYTES / 2;
    /**
     * The reader sends what callbacks posted after this many completions, not only at the end of
     * a burst: a pipeline then stays split into several bursts in flight, which keeps the node busy
     * instead of letting the two sides take turns at idling.
     */
    private static final int READER_FLUSH_EVERY = 16;
    /** A writer that keeps finding new work hands it to the sender thread after this many writes. */
    private static final int MAX_WRITES_PER_TURN = 8;
    /**
     * How long a waiter reads the socket for its own answer before it leaves the reading to the
     * reader thread and blocks: a few loopback round trips of a busy machine.
     */
    private static final long WAITER_READS_NANOS = 4 * Completions.POLL_NANOS;
    /** A reader standing aside looks again this often, so that no answer waits long for a reader. */
    private static final long READER_ASIDE_NANOS = 1_000_000;

    /** A batch in flight; {@code owner} is the shared connection's handle that posted it, or null. */
    private record Pending(Batch batch, CompletableFuture<BatchResult> future, long responseBytes, Object owner) {}

    private TcpConnection(NodeAddress address, ClientChannel socket, NodeInfo info, FrameReader frames, long timeoutNanos,
                          Consumer<TcpConnection> onClose) {
        this.address = address;
        this.socket = socket;
        this.info = info;
        this.timeoutNanos = timeoutNanos;
        this.onClose = onClose;
        this.frames = frames;
        this.reader = new Thread(this::readLoop, "pdpm-tcp-reader-" + address);
        this.sender = new Thread(this::sendLoop, "pdpm-tcp-sender-" + address);
        reader.setDaemon(true);
        sender.setDaemon(true);
        reader.start();
        sender.start();
    }

    static TcpConnection open(NodeAddress address, TcpFabric.Options options, Consumer<TcpConnection> onClose) {
        int connectMillis = (int) options.connectTimeout().toMillis();
        ClientChannel socket;
        try {
            socket = ClientChannel.connect(new InetSocketAddress(address.host(), address.port()), RECEIVE_BUFFER_BYTES,
                    connectMillis);
        } catch (SocketTimeoutException e) {
            throw timedOut(address, options, e);
        } catch (IOException e) {
            throw refused(address, e);
        }
        try {
            socket.readTimeoutMillis(connectMillis);
            FrameBuffer hello = new FrameBuffer(256);
            int frame = hello.beginFrame();
            hello.putByte(WireLayout.HELLO);
            hello.putInt(WireLayout.MAGIC);
            hello.putShort(WireLayout.VERSION);
            byte[] secret = options.secret() == null ? new byte[0] : options.secret().getBytes(StandardCharsets.UTF_8);
            if (secret.length > WireLayout.MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("secret is longer than " + WireLayout.MAX_SECRET_BYTES + " bytes");
            }
            hello.putShort(secret.length);
            hello.putBytes(secret, 0, secret.length);
            hello.endFrame(frame);
            socket.write(hello.array(), 0, hello.length());
            FrameReader frames = new FrameReader(socket, 256 << 10, WireLayout.MAX_BODY_BYTES, options.poll().toNanos());
            while (!frames.nextBuffered()) {
                if (!frames.fill()) {
                    throw new FabricException(Status.CONNECTION_REFUSED,
                            "memory node at " + address + " closed the connection during the handshake");
                }
            }
            NodeInfo info = parseWelcome(frames, address);
            socket.readTimeoutMillis(0);
            return new TcpConnection(address, socket, info, frames, options.operationTimeout().toNanos(), onClose);
        } catch (FabricException | IllegalArgumentException e) {
            closeQuietly(socket);
            throw e;
        } catch (SocketTimeoutException e) {
            closeQuietly(socket);
            throw timedOut(address, options, e);
        } catch (IOException | MalformedFrameException e) {
            closeQuietly(socket);
            throw refused(address, e);
        }
    }

    private static FabricException timedOut(NodeAddress address, TcpFabric.Options options, IOException e) {
        return new FabricException(Status.RETRY_EXCEEDED,
                "memory node at " + address + " did not answer within " + options.connectTimeout().toMillis() + " ms", e);
    }

    private static FabricException refused(NodeAddress address, Exception e) {
        return new FabricException(Status.CONNECTION_REFUSED,
                "cannot connect to memory node at " + address + ": " + e.getMessage(), e);
    }

    private static NodeInfo parseWelcome(FrameReader frames, NodeAddress address) throws MalformedFrameException {
        byte[] b = frames.buffer();
        int at = frames.bodyOffset();
        int end = at + frames.bodyLength();
        try {
            if (b[at] == WireLayout.REFUSED) {
                int n = FrameBuffer.getUnsignedShort(b, at + 1);
                throw new FabricException(Status.CONNECTION_REFUSED, "memory node at " + address + " refused us: "
                        + new String(b, at + 3, Math.min(n, end - at - 3), StandardCharsets.UTF_8));
            }
            if (b[at] != WireLayout.WELCOME) {
                throw new MalformedFrameException("expected WELCOME, got frame type " + b[at]);
            }
            int n = FrameBuffer.getUnsignedShort(b, at + 1);
            String nodeId = new String(b, at + 3, n, StandardCharsets.UTF_8);
            at += 3 + n;
            int regions = FrameBuffer.getUnsignedShort(b, at);
            at += 2;
            List<RemoteRegion> list = new ArrayList<>(regions);
            for (int i = 0; i < regions; i++) {
                list.add(new RemoteRegion(FrameBuffer.getInt(b, at), FrameBuffer.getLong(b, at + 4),
                        FrameBuffer.getInt(b, at + 12)));
                at += 16;
            }
            if (at != end) {
                throw new MalformedFrameException("WELCOME has trailing bytes");
            }
            return new NodeInfo(nodeId, list);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new MalformedFrameException("WELCOME frame is malformed: " + e.getMessage());
        }
    }

    @Override
    public NodeInfo node() {
        return info;
    }

    @Override
    public TrafficCounter stats() {
        return stats;
    }

    @Override
    public long timeoutNanos() {
        return timeoutNanos;
    }

    @Override
    public CompletableFuture<BatchResult> post(Batch batch) {
        return post(batch, stats, null, false);
    }

    @Override
    public CompletableFuture<BatchResult> postAwaited(Batch batch) {
        return post(batch, stats, null, true);
    }

    /**
     * Posts for a shared connection's handle {@code owner}, counting the batch in the handle's own
     * {@code counter}; {@code awaited} as for {@link #postAwaited}.
     */
    CompletableFuture<BatchResult> post(Batch batch, TrafficCounter counter, Object owner, boolean awaited) {
        if (awaited) {
            checkNotOnReader();
        }
        counter.addRoundTrips(1);
        counter.addBatch(batch);
        CompletableFuture<BatchResult> future = new CompletableFuture<>();
        boolean writeNow;
        boolean wakeReader;
        synchronized (lock) {
            if (broken != null) {
                future.completeExceptionally(broken);
                return future;
            }
            BatchCodec.encodeBatch(batch, outgoing);
            Pending p = new Pending(batch, future, BatchCodec.maxCompletionBytes(batch), owner);
            inFlight.add(p);
            awaitedResponseBytes += p.responseBytes();
            // A writer at work takes it along; a thread reading answers sends after its burst.
            writeNow = !writing && readOwner.get() != Thread.currentThread();
            writing |= writeNow;
            // Nobody else will read this answer soon: the reader must.
            wakeReader = !awaited && readerAside && waitersReading == 0;
        }
        if (writeNow) {
            writeQueued();
        }
        if (wakeReader) {
            LockSupport.unpark(reader);
        }
        return future;
    }

    /**
     * Waits for a batch posted here. The waiter reads the socket itself for a while, as an RDMA
     * client polls its own completion queue: handing each answer over from the reader thread costs
     * a wake-up whenever there are more threads than CPUs. Answers for others that it reads on the
     * way it completes for them. Then it leaves the reading to the reader and blocks.
     */
    @Override
    public BatchResult await(CompletableFuture<BatchResult> posted) {
        if (!posted.isDone()) {
            checkNotOnReader();
            readWhileWaiting(posted);
        }
        return Completions.await(posted, timeoutNanos, info.nodeId());
    }

    private void readWhileWaiting(CompletableFuture<BatchResult> posted) {
        Thread me = Thread.currentThread();
        synchronized (lock) {
            waitersReading++;
        }
        try {
            long deadline = System.nanoTime() + WAITER_READS_NANOS;
            while (!posted.isDone() && System.nanoTime() - deadline < 0) {
                if (readOwner.compareAndSet(null, me)) {
                    try {
                        completeBuffered();
                        if (!posted.isDone() && frames.fillIfReady()) {
                            completeBuffered();
                        }
                    } catch (IOException e) {
                        fail(lost(e));
                    } catch (MalformedFrameException e) {
                        fail(malformed(e));
                    } finally {
                        readOwner.set(null);
                    }
                } else {
                    Thread.yield();
                }
            }
        } finally {
            boolean wakeReader;
            synchronized (lock) {
                waitersReading--;
                wakeReader = waitersReading == 0 && !inFlight.isEmpty();
            }
            if (wakeReader) {
                LockSupport.unpark(reader);
            }
        }
    }

    /** Fails the batches in flight that {@code owner} posted; their answers, when they come, are dropped. */
    void failPostedBy(Object owner, FabricException cause) {
        List<CompletableFuture<BatchResult>> failed = new ArrayList<>();
        synchronized (lock) {
            for (Pending p : inFlight) {
                if (p.owner() == owner) {
                    failed.add(p.future());
                }
            }
        }
        failed.forEach(f -> f.completeExceptionally(cause));
    }

    /** A wait on the thread that delivers the completions would never end. */
    private void checkNotOnReader() {
        Thread me = Thread.currentThread();
        if (me == reader || readOwner.get() == me) {
            throw new IllegalStateException("a completion callback of " + address
                    + " waits for a completion on the thread that delivers them; post instead");
        }
    }

    /** True once the connection failed or was closed: every batch posted now fails. */
    boolean isBroken() {
        synchronized (lock) {
            return broken != null;
        }
    }

    /** Called by the thread reading answers after a burst of them: sends what their callbacks posted. */
    private void flushFromReader() {
        synchronized (lock) {
            if (writing || outgoing.length() == 0 || broken != null) {
                return;
            }
            if (awaitedResponseBytes > READER_WRITE_LIMIT_BYTES) {
                wakeSender();
                return;
            }
            writing = true;
        }
        writeQueued();
    }

    private void wakeSender() {
        if (sendSignal.compareAndSet(false, true)) {
            LockSupport.unpark(sender);
        }
    }

    /** Writes until nothing is queued; the caller holds {@code writing}, which this releases. */
    private void writeQueued() {
        for (int turn = 0; ; turn++) {
            FrameBuffer toSend;
            synchronized (lock) {
                if (outgoing.length() == 0 || broken != null) {
                    writing = false;
                    return;
                }
                if (turn == MAX_WRITES_PER_TURN) {
                    writing = false;
                    wakeSender();
                    return;
                }
                toSend = outgoing;
                outgoing = sending;
                sending = toSend;
            }
            try {
                socket.write(toSend.array(), 0, toSend.length());
                toSend.clear();
            } catch (IOException e) {
                toSend.clear();
                synchronized (lock) {
                    writing = false;
                }
                fail(new FabricException(closed ? Status.FLUSHED : Status.RETRY_EXCEEDED,
                        "connection to memory node at " + address + " lost while sending: " + e.getMessage(), e));
                return;
            }
        }
    }

    private void sendLoop() {
        while (!closed) {
            while (!sendSignal.getAndSet(false)) {
                if (closed) {
                    return;
                }
                LockSupport.park(this);
            }
            synchronized (lock) {
                if (writing || outgoing.length() == 0 || broken != null) {
                    continue;
                }
                writing = true;
            }
            writeQueued();
        }
    }

    private void readLoop() {
        try {
            while (takeReadsForReader()) {
                try {
                    completeBuffered();
                    boolean awaiting;
                    synchronized (lock) {
                        if (waitersReading > 0) {
                            continue;   // a waiter reads meanwhile: stand aside
                        }
                        awaiting = !inFlight.isEmpty();
                    }
                    if (!(awaiting ? frames.fillPolling() : frames.fill())) {
                        fail(new FabricException(closed ? Status.FLUSHED : Status.RETRY_EXCEEDED,
                                "memory node at " + address + " closed the connection"));
                        return;
                    }
                } finally {
                    readOwner.set(null);
                }
            }
        } catch (IOException e) {
            fail(lost(e));
        } catch (MalformedFrameException e) {
            fail(malformed(e));
        }
    }

    /**
     * Waits until no waiter reads for itself, then takes the reads; false once the connection is
     * broken. Standing aside, the reader looks again now and then in case an answer is left over.
     */
    private boolean takeReadsForReader() {
        while (true) {
            boolean aside;
            synchronized (lock) {
                if (broken != null) {
                    return false;
                }
                aside = readerAside = waitersReading > 0;
            }
            if (aside) {
                LockSupport.parkNanos(this, READER_ASIDE_NANOS);
            } else if (readOwner.compareAndSet(null, reader)) {
                return true;
            } else {
                Thread.yield();
            }
        }
    }

    /**
     * Completes every answer already buffered, then sends what their callbacks posted. The caller
     * owns the reads.
     */
    private void completeBuffered() throws MalformedFrameException {
        int sinceFlush = 0;
        while (frames.nextBuffered()) {
            Pending p;
            synchronized (lock) {
                p = inFlight.poll();
                if (p != null) {
                    awaitedResponseBytes -= p.responseBytes();
                }
            }
            if (p == null) {
                throw new MalformedFrameException("completion for a batch that was never posted");
            }
            Object outcome = BatchCodec.decodeCompletion(frames.buffer(), frames.bodyOffset(),
                    frames.bodyLength(), p.batch());
            if (outcome instanceof BatchResult r) {
                p.future().complete(r);
            } else {
                p.future().completeExceptionally((FabricException) outcome);
            }
            if (++sinceFlush == READER_FLUSH_EVERY) {
                flushFromReader();
                sinceFlush = 0;
            }
        }
        flushFromReader();
    }

    private FabricException lost(IOException e) {
        return new FabricException(closed ? Status.FLUSHED : Status.RETRY_EXCEEDED,
                "connection to memory node at " + address + " lost: " + e.getMessage(), e);
    }

    private FabricException malformed(MalformedFrameException e) {
        return new FabricException(Status.REMOTE_OPERATION_ERROR,
                "memory node at " + address + " sent a malformed completion: " + e.getMessage());
    }

    /** Breaks the connection: every batch in flight, and every later one, fails with {@code cause}. */
    private void fail(FabricException cause) {
        List<Pending> failed;
        synchronized (lock) {
            if (broken == null) {
                broken = cause;
            }
            failed = new ArrayList<>(inFlight);
            inFlight.clear();
            awaitedResponseBytes = 0;
            outgoing.clear();
        }
        closeQuietly(socket);
        for (Pending p : failed) {
            p.future().completeExceptionally(broken);
        }
        LockSupport.unpark(sender);
        LockSupport.unpark(reader);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        fail(new FabricException(Status.FLUSHED, "connection to memory node at " + address + " was closed"));
        onClose.accept(this);
    }

    private static void closeQuietly(ClientChannel s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing is best effort: the socket is being abandoned either way.
        }
    }
}
