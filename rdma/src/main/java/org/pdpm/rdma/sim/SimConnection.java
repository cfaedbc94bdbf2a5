package org.pdpm.rdma.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.TrafficCounter;
import org.pdpm.rdma.memory.VerbExecutor;

/**
 * A simulated queue pair. Posted batches wait in a FIFO queue until due, then execute and complete
 * strictly in posting order: a held-back batch holds back everything behind it on this connection,
 * never batches on other connections. One thread at a time drains the queue (the posting thread
 * when nothing is held back, a timer thread otherwise), so completions never overtake each other
 * and completing one never recurses into the next.
 */
final class SimConnection implements Connection {

    private final SimClient client;
    private final SimNode node;
    private final VerbExecutor executor;
    private final NodeInfo info;
    private final long timeoutNanos;
    private final TrafficCounter stats = new TrafficCounter();
    private final ArrayDeque<PostedBatch> queue = new ArrayDeque<>();
    private boolean draining;
    private volatile boolean closed;

    SimConnection(SimClient client, SimNode node, long timeoutNanos) {
        this.client = client;
        this.node = node;
        this.executor = node.executorForNewConnection();
        this.info = executor.node().info();
        this.timeoutNanos = timeoutNanos;
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
            return CompletableFuture.failedFuture(closedFailure());
        }
        return client.post(this, batch);
    }

    /** Queues a batch; called under the client's lock so queue order is the client's posting order. */
    synchronized boolean enqueue(PostedBatch posted) {
        if (closed) {
            return false;
        }
        queue.add(posted);
        return true;
    }

    /** Delivers what is due now, and arranges for a held-back batch to be delivered when it is due. */
    void deliverWhenDue(long delayNanos) {
        if (delayNanos > 0) {
            CompletableFuture.delayedExecutor(delayNanos, TimeUnit.NANOSECONDS).execute(this::drain);
        }
        drain();
    }

    private void drain() {
        PostedBatch next;
        synchronized (this) {
            if (draining) {
                return;
            }
            next = takeDue();
            draining = next != null;
        }
        while (next != null) {
            complete(next);
            synchronized (this) {
                next = takeDue();
                draining = next != null;
            }
        }
    }

    private PostedBatch takeDue() {
        PostedBatch head = queue.peek();
        return head != null && head.isDue(System.nanoTime()) ? queue.poll() : null;
    }

    private void complete(PostedBatch posted) {
        try {
            posted.completion().complete(carryOut(posted.batch(), posted.fate()));
        } catch (RuntimeException e) {
            posted.completion().completeExceptionally(e);
        }
    }

    private BatchResult carryOut(Batch batch, BatchFate fate) {
        BatchResult result = null;
        FabricException failure = null;
        try {
            result = node.whileServing(executor, () -> execute(batch, fate));
        } catch (FabricException e) {
            failure = e;
        }
        // A client that has stopped receives nothing: batches it had in flight executed (their
        // verbs came before its limit) but their completions find no one.
        if (client.isCrashed()) {
            throw client.crashFailure();
        }
        if (failure != null) {
            throw failure;
        }
        return result;
    }

    private BatchResult execute(Batch batch, BatchFate fate) {
        if (fate.stopsClient()) {
            // A batch the node refuses changes nothing, even when the client stops in its middle.
            executor.validate(batch);
            executor.execute(BatchPrefix.of(batch, fate.verbsToExecute(), info));
            throw client.crashFailure();
        }
        if (fate.injectedFailure() == FailureMode.REQUEST_LOST) {
            throw injected(fate, "request lost before it reached the node");
        }
        BatchResult result = executor.execute(batch);
        if (fate.injectedFailure() == FailureMode.COMPLETION_LOST) {
            throw injected(fate, "batch executed but its completion was lost");
        }
        return result;
    }

    private FabricException injected(BatchFate fate, String what) {
        return new FabricException(fate.failureStatus(), "simulated fault on " + info.nodeId() + " for client "
                + client.name() + ": " + what);
    }

    private FabricException closedFailure() {
        return new FabricException(FabricException.Status.FLUSHED, "connection to " + info.nodeId() + " is closed");
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
        List<PostedBatch> abandoned;
        synchronized (this) {
            closed = true;
            abandoned = new ArrayList<>(queue);
            queue.clear();
        }
        for (PostedBatch p : abandoned) {
            p.completion().completeExceptionally(closedFailure());
        }
        client.forget(this);
    }
}
