package org.pdpm.rdma.api;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Blocking waits on completions, turning every failure into a {@link FabricException}. */
public final class Completions {

    /**
     * How long a waiter polls its completion before parking. An RDMA client polls its completion
     * queue; here polling spares the wake-up of an idle (virtual) CPU, which costs far more than a
     * loopback round trip on an awake one.
     */
    public static final long POLL_NANOS = 50_000;

    private Completions() {}

    public static <T> T await(CompletableFuture<T> future, long timeoutNanos, String what) {
        if (!future.isDone()) {
            long deadline = System.nanoTime() + POLL_NANOS;
            while (!future.isDone() && System.nanoTime() - deadline < 0) {
                Thread.yield();
            }
        }
        try {
            return future.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause(), what);
        } catch (TimeoutException e) {
            throw new FabricException(FabricException.Status.RETRY_EXCEEDED,
                    "no completion from " + what + " within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        } catch (CancellationException e) {
            throw new FabricException(FabricException.Status.FLUSHED, "request to " + what + " was cancelled", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FabricException(FabricException.Status.FLUSHED, "interrupted while waiting for " + what, e);
        }
    }

    static FabricException unwrap(Throwable cause, String what) {
        if (cause instanceof FabricException fe) {
            // Re-throw a fresh exception so the caller's stack shows where it waited.
            FabricException copy = new FabricException(fe.status(), stripStatus(fe), fe);
            return copy;
        }
        return new FabricException(FabricException.Status.REMOTE_OPERATION_ERROR,
                "request to " + what + " failed: " + cause, cause);
    }

    private static String stripStatus(FabricException fe) {
        String m = fe.getMessage();
        String prefix = fe.status() + ": ";
        return m != null && m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }
}
