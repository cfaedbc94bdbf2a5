package org.pdpm.rdma.tcp;

import java.util.concurrent.CompletableFuture;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * One client's use of the connection that a {@link TcpFabric} shares among all its clients of one
 * memory node. It counts its own traffic, and closing it fails only its own batches in flight; the
 * socket closes when its last user does. Batches from one thread still execute in posting order.
 */
final class SharedConnectionHandle implements Connection {

    private final TcpConnection shared;
    private final Runnable release;
    private final TrafficCounter stats = new TrafficCounter();
    private volatile boolean closed;

    SharedConnectionHandle(TcpConnection shared, Runnable release) {
        this.shared = shared;
        this.release = release;
    }

    @Override
    public NodeInfo node() {
        return shared.node();
    }

    @Override
    public TrafficCounter stats() {
        return stats;
    }

    @Override
    public long timeoutNanos() {
        return shared.timeoutNanos();
    }

    @Override
    public CompletableFuture<BatchResult> post(Batch batch) {
        return post(batch, false);
    }

    @Override
    public CompletableFuture<BatchResult> postAwaited(Batch batch) {
        return post(batch, true);
    }

    private CompletableFuture<BatchResult> post(Batch batch, boolean awaited) {
        if (closed) {
            return CompletableFuture.failedFuture(closedException());
        }
        CompletableFuture<BatchResult> future = shared.post(batch, stats, this, awaited);
        if (closed) {
            // Closed while posting: close() may have missed this one.
            future.completeExceptionally(closedException());
        }
        return future;
    }

    @Override
    public BatchResult await(CompletableFuture<BatchResult> posted) {
        return shared.await(posted);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        shared.failPostedBy(this, closedException());
        release.run();
    }

    private FabricException closedException() {
        return new FabricException(Status.FLUSHED, "connection to memory node " + shared.node().nodeId()
                + " was closed");
    }
}
