package org.pdpm.rdma.sim;

import java.util.concurrent.CompletableFuture;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;

/** A batch waiting in its connection's queue until it is due, with its fate and its completion. */
record PostedBatch(Batch batch, BatchFate fate, CompletableFuture<BatchResult> completion, long dueNanos) {

    boolean isDue(long nowNanos) {
        return nowNanos - dueNanos >= 0;
    }
}
