package org.pdpm.rdma.disni;

import com.ibm.disni.RdmaActiveEndpointGroup;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.SVCPostSend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * One reliable-connection queue pair to a {@link DisniMemoryNode}. Each batch becomes one chain
 * of work requests posted with one doorbell ({@link SendChain}); its last request is signaled and
 * its completion completes the batch and every batch before it, as an RC queue pair completes in
 * order. Data moves through one registered staging buffer per connection ({@link StagingRing}).
 * A failed completion leaves the queue pair in the error state, as verbs define: the batch it
 * belongs to fails with the mapped status, everything behind it with FLUSHED, and the connection
 * refuses further posts (reconnect to go on).
 */
final class DisniConnection implements Connection, DisniEndpoint.Listener {

    /** Requests in flight on one queue pair: one full batch. */
    static final int SEND_QUEUE_DEPTH = FabricLimits.MAX_BATCH_VERBS;

    /** Registered staging per connection: room for two of the largest batches. */
    static final int STAGING_BYTES = 2 * SendChain.MAX_STAGING_BYTES;

    /** The wr_id of the RECV that takes the node's hello; batch wr_ids start at 1 << INDEX_BITS. */
    private static final long HELLO_WR_ID = 0;

    private final DisniEndpoint endpoint;
    private final NodeAddress address;
    private final long timeoutNanos;
    private final Executor completer;
    private final Consumer<DisniConnection> onClose;
    private final TrafficCounter stats = new TrafficCounter();

    private final CompletableFuture<Void> established = new CompletableFuture<>();
    private final CompletableFuture<Integer> helloBytes = new CompletableFuture<>();
    private ByteBuffer helloBuffer;
    private IbvMr helloMr;
    private ByteBuffer staging;
    private IbvMr stagingMr;

    private NodeInfo info;
    private RemoteRegion region;
    private long regionAddress;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final StagingRing ring = new StagingRing(STAGING_BYTES);
    private int requestsInFlight;
    private long nextSequence = 1;
    private boolean afterReadOrAtomic;
    private volatile FabricException broken;
    private volatile boolean closed;

    private static final class InFlight {
        final Batch batch;
        final CompletableFuture<BatchResult> future = new CompletableFuture<>();
        SendChain chain;
        long sequence;
        int stagingStart;
        int stagingBytes;
        int requests;
        BatchResult result;
        FabricException failure;

        InFlight(Batch batch) {
            this.batch = batch;
        }
    }

    private DisniConnection(DisniEndpoint endpoint, NodeAddress address, long timeoutNanos, Executor completer,
                            Consumer<DisniConnection> onClose) {
        this.endpoint = endpoint;
        this.address = address;
        this.timeoutNanos = timeoutNanos;
        this.completer = completer;
        this.onClose = onClose;
    }

    /**
     * Connects, then waits for the node's hello. DiSNI 2.1's {@code connect} does not return when
     * the peer rejects or is unreachable, so it runs on {@code connector} and this thread waits for
     * whichever comes first: established, a failure event, or the timeout.
     */
    static DisniConnection open(RdmaActiveEndpointGroup<DisniEndpoint> group, NodeAddress address, long timeoutNanos,
                                Executor completer, Executor connector, Consumer<DisniConnection> onClose) {
        InetSocketAddress destination = new InetSocketAddress(address.host(), address.port());
        if (destination.isUnresolved()) {
            throw new FabricException(Status.CONNECTION_REFUSED, "cannot resolve host of " + address);
        }
        DisniEndpoint endpoint;
        try {
            endpoint = group.createEndpoint();
        } catch (IOException e) {
            throw new FabricException(Status.CONNECTION_REFUSED, "cannot create an RDMA endpoint for " + address, e);
        }
        DisniConnection c = new DisniConnection(endpoint, address, timeoutNanos, completer, onClose);
        endpoint.listener(c);
        try {
            int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
            connector.execute(() -> {
                try {
                    endpoint.connect(destination, timeoutMillis);
                    c.established.complete(null);
                } catch (Exception e) {
                    c.established.completeExceptionally(e);
                }
            });
            long deadline = System.nanoTime() + timeoutNanos;
            await(c.established, deadline, "connecting to " + address);
            int received = await(c.helloBytes, deadline, "the hello of the node at " + address);
            NodeHello hello;
            try {
                hello = NodeHello.decode(c.helloBuffer, received);
            } catch (IllegalArgumentException e) {
                throw new FabricException(Status.CONNECTION_REFUSED, address + " is not a compatible pDPM memory node: "
                        + e.getMessage());
            }
            c.info = hello.info();
            c.region = c.info.firstRegion();
            c.regionAddress = hello.regionAddress();
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static <T> T await(CompletableFuture<T> f, long deadlineNanos, String what) {
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new FabricException(Status.RETRY_EXCEEDED, "no answer while " + what);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof FabricException fe) {
                throw fe;
            }
            throw new FabricException(Status.CONNECTION_REFUSED, "failed " + what + ": " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FabricException(Status.FLUSHED, "interrupted " + what, e);
        }
    }

    // ---- DiSNI callbacks ----

    /** Registers the local buffers and posts the hello RECV before the node can send it. */
    @Override
    public void queuePairReady(DisniEndpoint ep) throws IOException {
        helloBuffer = ByteBuffer.allocateDirect(NodeHello.BYTES);
        // Local write only: nothing on the client is a target of remote verbs.
        helloMr = ep.getPd().regMr(helloBuffer, IbvMr.IBV_ACCESS_LOCAL_WRITE).execute().free().getMr();
        staging = ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.nativeOrder());
        stagingMr = ep.getPd().regMr(staging, IbvMr.IBV_ACCESS_LOCAL_WRITE).execute().free().getMr();
        IbvSge sge = new IbvSge();
        sge.setAddr(helloMr.getAddr());
        sge.setLength(NodeHello.BYTES);
        sge.setLkey(helloMr.getLkey());
        LinkedList<IbvSge> sgl = new LinkedList<>();
        sgl.add(sge);
        IbvRecvWR recv = new IbvRecvWR();
        recv.setWr_id(HELLO_WR_ID);
        recv.setSg_list(sgl);
        recv.setNum_sge(1);
        LinkedList<IbvRecvWR> recvs = new LinkedList<>();
        recvs.add(recv);
        ep.postRecv(recvs).execute().free();
    }

    @Override
    public void completed(long wrId, int status, int byteLength) {
        if (wrId == HELLO_WR_ID) {
            if (CompletionStatus.isSuccess(status)) {
                helloBytes.complete(byteLength);
            } else {
                helloBytes.completeExceptionally(new FabricException(CompletionStatus.of(status),
                        "receiving the hello of " + address + " failed with " + CompletionStatus.describe(status)));
            }
            return;
        }
        List<InFlight> done;
        lock.lock();
        try {
            long sequence = SendChain.sequenceOf(wrId);
            if (CompletionStatus.isSuccess(status)) {
                done = collect(sequence);
            } else {
                done = breakConnection(CompletionStatus.of(status), "request " + (wrId & ((1 << SendChain.INDEX_BITS) - 1))
                        + " of a batch to node " + nodeId() + " completed with " + CompletionStatus.describe(status),
                        sequence);
            }
            room.signalAll();
        } finally {
            lock.unlock();
        }
        finish(done);
    }

    @Override
    public void connectionEnded(String event) {
        FabricException e = new FabricException(Status.CONNECTION_REFUSED, "connection to " + address + " ended: " + event);
        established.completeExceptionally(e);
        helloBytes.completeExceptionally(e);
        List<InFlight> done;
        lock.lock();
        try {
            done = breakConnection(Status.RETRY_EXCEEDED, "node at " + address + " is gone (" + event + ")", -1);
            room.signalAll();
        } finally {
            lock.unlock();
        }
        finish(done);
    }

    // ---- Connection ----

    @Override
    public NodeInfo node() {
        return info;
    }

    private String nodeId() {
        return info == null ? address.toString() : info.nodeId();
    }

    @Override
    public CompletableFuture<BatchResult> post(Batch batch) {
        stats.addRoundTrips(1);
        stats.addBatch(batch);
        FabricException refusal = refusal();
        if (refusal != null) {
            return CompletableFuture.failedFuture(refusal);
        }
        try {
            RequestCheck.validate(batch, region, info.nodeId());
        } catch (FabricException e) {
            return CompletableFuture.failedFuture(e);
        }
        InFlight f = new InFlight(batch);
        f.stagingBytes = SendChain.stagingBytes(batch);
        f.requests = SendChain.workRequests(batch);
        List<InFlight> done = null;
        lock.lock();
        try {
            f.stagingStart = reserveRoom(f);
            f.sequence = nextSequence++;
            f.chain = SendChain.build(batch, f.sequence, regionAddress, region.rkey(), staging, f.stagingStart,
                    stagingMr.getAddr(), stagingMr.getLkey(), afterReadOrAtomic);
            inFlight.add(f);
            requestsInFlight += f.requests;
            if (f.requests == 0) {
                // Nothing to post: it completes as soon as every batch before it has.
                done = collect(-1);
            } else {
                done = doorbell(f);
            }
        } catch (FabricException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
        finish(done);
        return f.future;
    }

    /** Waits (up to the timeout) for send-queue slots and staging bytes, then reserves the staging. */
    private int reserveRoom(InFlight f) {
        long waitNanos = timeoutNanos;
        while (true) {
            FabricException refusal = refusal();
            if (refusal != null) {
                throw refusal;
            }
            if (requestsInFlight + f.requests <= SEND_QUEUE_DEPTH) {
                int start = ring.reserve(f.stagingBytes);
                if (start >= 0) {
                    return start;
                }
            }
            if (waitNanos <= 0) {
                throw new FabricException(Status.RETRY_EXCEEDED, "no room for " + f.requests + " requests and "
                        + f.stagingBytes + " staging bytes on the connection to " + nodeId() + " within "
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
            }
            try {
                waitNanos = room.awaitNanos(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FabricException(Status.FLUSHED, "interrupted while waiting for room on " + nodeId(), e);
            }
        }
    }

    /** Serializes the chain, repairs its atomics and rings the doorbell once. */
    private List<InFlight> doorbell(InFlight f) {
        try {
            SVCPostSend post = endpoint.postSend(f.chain.requests());
            try {
                AtomicOperandPatch.apply(post, f.chain.requests());
                post.execute();
            } finally {
                post.free();
            }
            afterReadOrAtomic = f.chain.endsWithReadOrAtomic();
            return List.of();
        } catch (IOException | RuntimeException e) {
            // The queue pair's state is unknown now; stop using it rather than guess.
            return breakConnection(Status.REMOTE_OPERATION_ERROR, "posting to " + nodeId() + " failed: " + e, f.sequence);
        }
    }

    /** Pops, under the lock, every batch complete once batch {@code sequence} has completed. */
    private List<InFlight> collect(long sequence) {
        List<InFlight> done = new ArrayList<>();
        InFlight h;
        while ((h = inFlight.peek()) != null && (h.requests == 0 || h.sequence <= sequence)) {
            inFlight.poll();
            h.result = h.chain.results(staging);
            ring.release(h.stagingStart, h.stagingBytes);
            requestsInFlight -= h.requests;
            done.add(h);
        }
        return done;
    }

    /** Fails every batch in flight and refuses later posts; {@code failedSequence} gets {@code status}. */
    private List<InFlight> breakConnection(Status status, String message, long failedSequence) {
        if (broken == null) {
            broken = new FabricException(Status.FLUSHED, "connection to " + nodeId() + " broke (" + message
                    + "); open a new connection");
        }
        List<InFlight> done = new ArrayList<>(inFlight);
        for (InFlight f : done) {
            f.failure = f.sequence == failedSequence
                    ? new FabricException(status, message)
                    : new FabricException(Status.FLUSHED, "not executed: " + message);
        }
        inFlight.clear();
        requestsInFlight = 0;
        return done;
    }

    private void finish(List<InFlight> done) {
        if (done == null || done.isEmpty()) {
            return;
        }
        // Off DiSNI's CQ thread: a caller that blocks on a new batch in its callback must not stall completions.
        completer.execute(() -> {
            for (InFlight f : done) {
                if (f.failure != null) {
                    f.future.completeExceptionally(f.failure);
                } else {
                    f.future.complete(f.result);
                }
            }
        });
    }

    private FabricException refusal() {
        if (closed) {
            return new FabricException(Status.FLUSHED, "connection to " + nodeId() + " is closed");
        }
        return broken;
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
    public void close() {
        List<InFlight> done;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            done = breakConnection(Status.FLUSHED, "connection to " + nodeId() + " closed", -1);
            room.signalAll();
        } finally {
            lock.unlock();
        }
        finish(done);
        try {
            endpoint.close();
        } catch (IOException e) {
            // The queue pair is gone either way; what is left to release below is ours.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deregister(stagingMr);
        deregister(helloMr);
        onClose.accept(this);
    }

    private static void deregister(IbvMr mr) {
        if (mr != null) {
            try {
                mr.deregMr().execute().free();
            } catch (IOException e) {
                // The protection domain outlives this connection; a failed deregistration only leaks pinned pages.
            }
        }
    }
}
