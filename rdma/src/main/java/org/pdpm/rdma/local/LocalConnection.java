package org.pdpm.rdma.local;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.TrafficCounter;
import org.pdpm.rdma.memory.VerbExecutor;

/** A connection to an in-JVM node: batches execute on the posting thread, in posting order. */
final class LocalConnection implements Connection {

    private final VerbExecutor executor;
    private final NodeInfo info;
    private final long latencyNanos;
    private final DelayedCompleter completer;
    private final long timeoutNanos;
    private final Consumer<LocalConnection> onClose;
    private final TrafficCounter stats = new TrafficCounter();
    private volatile boolean closed;
    private volatile boolean nodeGone;

    LocalConnection(VerbExecutor executor, long latencyNanos, DelayedCompleter completer, long timeoutNanos,
                    Consumer<LocalConnection> onClose) {
        this.executor = executor;
        this.info = executor.node().info();
        this.latencyNanos = latencyNanos;
        this.completer = completer;
        this.timeoutNanos = timeoutNanos;
        this.onClose = onClose;
    }

    VerbExecutor executor() {
        return executor;
    }

    void markNodeGone() {
        nodeGone = true;
    }

    @Override
    public NodeInfo node() {
        return info;
    }

    @Override
    public CompletableFuture<BatchResult> post(Batch batch) {
        stats.addRoundTrips(1);
        stats.addBatch(batch);
        if (closed) {
            return CompletableFuture.failedFuture(
                    new FabricException(FabricException.Status.FLUSHED, "connection to " + info.nodeId() + " is closed"));
        }
        if (nodeGone) {
            return CompletableFuture.failedFuture(
                    new FabricException(FabricException.Status.RETRY_EXCEEDED, "node " + info.nodeId() + " is gone"));
        }
        CompletableFuture<BatchResult> f;
        try {
            f = CompletableFuture.completedFuture(executor.execute(batch));
        } catch (FabricException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return completer == null ? f : completer.delay(f, latencyNanos);
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
        closed = true;
        onClose.accept(this);
    }
}
