package org.pdpm.rdma.api;

import java.util.concurrent.CompletableFuture;

/**
 * A reliable connection to one memory node (an RDMA queue pair). Thread-safe: many threads may
 * post at once; batches posted from one thread execute in posting order. Every batch posted here
 * counts one round trip, its verbs and its bytes in {@link #stats()}.
 */
public interface Connection extends AutoCloseable {

    /** The node and its regions, as learnt when the connection was set up. */
    NodeInfo node();

    /**
     * Posts a batch. The future completes with the batch's results once every request in it has
     * completed, or exceptionally with a {@link FabricException}; a batch containing a request the
     * node must refuse (bad rkey or bounds, misaligned atomic) is refused whole and changes nothing.
     * Completion callbacks may run on the fabric's I/O thread, or on a thread waiting in
     * {@link #await} on the same connection: they may post more batches (that is how a client keeps
     * many requests in flight cheaply) but must not block waiting for one.
     */
    CompletableFuture<BatchResult> post(Batch batch);

    /** Per-connection round trips, verbs and bytes. */
    TrafficCounter stats();

    /** How long blocking calls wait for a completion before failing with RETRY_EXCEEDED. */
    long timeoutNanos();

    /**
     * Posts a batch whose completion the calling thread is about to {@link #await}. A fabric may
     * then leave the completion for that thread to collect itself, as an RDMA client polls its own
     * completion queue, rather than hand it over from an I/O thread.
     */
    default CompletableFuture<BatchResult> postAwaited(Batch batch) {
        return post(batch);
    }

    /**
     * Waits for a batch posted here, failing with a {@link FabricException} (RETRY_EXCEEDED after
     * {@link #timeoutNanos()}). Must not be called from a completion callback.
     */
    default BatchResult await(CompletableFuture<BatchResult> posted) {
        return Completions.await(posted, timeoutNanos(), node().nodeId());
    }

    /** Posts and waits. */
    default BatchResult execute(Batch batch) {
        return await(postAwaited(batch));
    }

    default byte[] read(RemoteRegion region, long offset, int length) {
        Batch b = new Batch(1);
        int i = b.read(region, offset, length);
        return execute(b).bytes(i);
    }

    default void write(RemoteRegion region, long offset, byte[] source) {
        Batch b = new Batch(1);
        b.write(region, offset, source);
        execute(b);
    }

    /** Returns the word found; the swap happened iff it equals {@code expected}. */
    default long compareAndSwap(RemoteRegion region, long offset, long expected, long desired) {
        Batch b = new Batch(1);
        int i = b.compareAndSwap(region, offset, expected, desired);
        return execute(b).oldValue(i);
    }

    default long fetchAndAdd(RemoteRegion region, long offset, long delta) {
        Batch b = new Batch(1);
        int i = b.fetchAndAdd(region, offset, delta);
        return execute(b).oldValue(i);
    }

    default void flush(RemoteRegion region, long offset, long length) {
        Batch b = new Batch(1);
        b.flush(region, offset, length);
        execute(b);
    }

    /** Closes the connection; batches still in flight complete with FLUSHED. */
    @Override
    void close();
}
