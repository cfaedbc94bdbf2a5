package org.pdpm.rdma.local;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;

/** Hands completions back after an injected round-trip latency, on one daemon thread. */
final class DelayedCompleter implements AutoCloseable {

    private final DelayQueue<Pending<?>> queue = new DelayQueue<>();
    private final Thread thread;

    DelayedCompleter() {
        thread = new Thread(this::run, "pdpm-local-latency");
        thread.setDaemon(true);
        thread.start();
    }

    <T> CompletableFuture<T> delay(CompletableFuture<T> done, long nanos) {
        CompletableFuture<T> later = new CompletableFuture<>();
        queue.add(new Pending<>(done, later, System.nanoTime() + nanos));
        return later;
    }

    private void run() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                queue.take().release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        Pending<?> p;
        while ((p = queue.poll()) != null) {
            p.release();
        }
    }

    private record Pending<T>(CompletableFuture<T> done, CompletableFuture<T> later, long dueNanos)
            implements Delayed {

        void release() {
            done.whenComplete((v, e) -> {
                if (e != null) {
                    later.completeExceptionally(e);
                } else {
                    later.complete(v);
                }
            });
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueNanos, ((Pending<?>) o).dueNanos);
        }
    }
}
