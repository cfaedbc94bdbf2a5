package org.pdpm.core.clover;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;

/** Waiting for a single-threaded executor to finish what was queued on it so far. */
final class QueuedWork {

    private QueuedWork() {}

    /** Waits up to {@code seconds} for everything queued before this call; says so in the log when it does not finish. */
    static void await(ExecutorService executor, long seconds, Logger log, String what) {
        try {
            executor.submit(() -> { }).get(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            log.warn("{} did not finish: {}", what, e.toString());
        }
    }
}
