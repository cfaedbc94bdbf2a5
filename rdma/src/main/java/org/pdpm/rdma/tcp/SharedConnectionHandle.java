package org.pdpm.rdma.tcp;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
    private final Set<CompletableFuture<BatchResult>> inFlight = ConcurrentHashMap.newKeySet();
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
        if (closed) {
            return CompletableFuture.failedFuture(closedException());
        }
        return track(shared.post(batch, stats));
    }

    @Override
    public CompletableFuture<BatchResult> postAwaited(Batch batch) {
        if (closed) {
            return CompletableFuture.failedFuture(closedException());
        }
        return track(shared.postAwaited(batch, stats));
    }

    @Override
    public BatchResult await(CompletableFuture<BatchResult> posted) {
        return shared.await(posted);
    }

    /** Remembers a posted batch until it completes, so that closing this handle can fail it. */
    private CompletableFuture<BatchResult> track(CompletableFuture<BatchResult> future) {
        if (!future.isDone()) {
            inFlight.add(future);
            future.whenComplete((r, e) -> inFlight.remove(future));
            if (closed) {
                // Closed while posting: close() may have missed this one.
                future.completeExceptionally(closedException());
            }
        }
        return future;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        FabricException flushed = closedException();
        for (CompletableFuture<BatchResult> f : inFlight) {
            f.completeExceptionally(flushed);
        }
        release.run();
    }

    private FabricException closedException() {
        return new FabricException(Status.FLUSHED, "connection to memory node " + shared.node().nodeId()
                + " was closed");
    }
}
