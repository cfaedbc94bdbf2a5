package org.pdpm.jobs.sample;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Turns the source's sequence numbers into purchases. Chained to the (checkpointed) sequence
 * source, it also reports the source's position, paces the input when a rate is set, and can
 * throw once — after a checkpoint completed and with events beyond it already processed, so that
 * the restore has state to roll back.
 */
final class GeneratePurchases extends RichMapFunction<Long, Purchase> implements CheckpointListener {

    private static final long serialVersionUID = 1L;

    private final PurchaseGenerator generator;
    private final String runId;
    private final long eventsPerSecond;
    /** Throw once at or after this index; -1 never. */
    private final long failAtIndex;

    private transient RunProbe probe;
    private transient int attempt;
    private transient boolean started;
    private transient long startNanos;
    private transient long emitted;
    private transient long lastIndex;
    private transient boolean checkpointCompleted;
    private transient long indexAtCheckpointNotice;

    GeneratePurchases(PurchaseGenerator generator, String runId, long eventsPerSecond, long failAtIndex) {
        this.generator = generator;
        this.runId = runId;
        this.eventsPerSecond = eventsPerSecond;
        this.failAtIndex = failAtIndex;
    }

    @Override
    public void open(OpenContext openContext) {
        probe = RunProbe.of(runId);
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        lastIndex = -1;
    }

    @Override
    public Purchase map(Long boxedIndex) throws Exception {
        long index = boxedIndex;
        if (!started) {
            started = true;
            startNanos = System.nanoTime();
            probe.sourceAttemptStarted(attempt, index);
        }
        if (eventsPerSecond > 0) {
            pace();
        }
        if (failAtIndex >= 0 && index >= failAtIndex && checkpointCompleted && index > indexAtCheckpointNotice
                && probe.claimFailure(index, attempt)) {
            throw new InjectedFailure("injected failure at event " + index + " of attempt " + attempt);
        }
        lastIndex = index;
        probe.sourcePosition(index);
        return generator.at(index);
    }

    private void pace() throws InterruptedException {
        emitted++;
        long dueNanos = startNanos + emitted * 1_000_000_000L / eventsPerSecond;
        long aheadMillis = (dueNanos - System.nanoTime()) / 1_000_000;
        if (aheadMillis > 0) {
            Thread.sleep(aheadMillis);
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpointCompleted = true;
        indexAtCheckpointNotice = lastIndex;
    }

    /** The failure the job injects into itself. */
    static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFailure(String message) {
            super(message);
        }
    }
}
