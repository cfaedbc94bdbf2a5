package org.pdpm.rdma.api;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Blocking waits on completions, turning every failure into a {@link FabricException}. */
public final class Completions {

    private Completions() {}

    public static <T> T await(CompletableFuture<T> future, long timeoutNanos, String what) {
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
