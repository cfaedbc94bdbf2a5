package org.pdpm.jobs.sample;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the runner sees of one run from inside the job: how far the source got, which attempt
 * processed what and when, and the injected failure. The job's functions find it by run id; it
 * works because the demo, {@code pdpm job} and the tests run Flink in this JVM (a MiniCluster).
 * It observes only: the result check reads the sink's table, never these figures.
 */
public final class RunProbe {

    private static final ConcurrentMap<String, RunProbe> PROBES = new ConcurrentHashMap<>();

    private final AtomicLong position = new AtomicLong(-1);
    private final AtomicBoolean failureInjected = new AtomicBoolean();
    private volatile long failureNanos;
    private volatile long failureIndex = -1;
    private volatile int failureAttempt = -1;
    private final ConcurrentMap<Integer, Long> firstSourceIndexByAttempt = new ConcurrentHashMap<>();
    private final ConcurrentMap<Integer, Long> firstRecordNanosByAttempt = new ConcurrentHashMap<>();
    private final AtomicLong endOfInputNanos = new AtomicLong();

    private RunProbe() {}

    static RunProbe register(String runId) {
        RunProbe probe = new RunProbe();
        if (PROBES.putIfAbsent(runId, probe) != null) {
            throw new IllegalStateException("runId=" + runId + " is already registered");
        }
        return probe;
    }

    static void unregister(String runId) {
        PROBES.remove(runId);
    }

    /** The probe of a run, or a detached one when the job runs outside the runner (nothing reads it). */
    static RunProbe of(String runId) {
        RunProbe probe = PROBES.get(runId);
        return probe != null ? probe : new RunProbe();
    }

    // --- written by the job ---

    void sourcePosition(long index) {
        position.lazySet(index);
    }

    void sourceAttemptStarted(int attempt, long firstIndex) {
        firstSourceIndexByAttempt.putIfAbsent(attempt, firstIndex);
    }

    /** True once per run: the caller is the one that injects the failure. */
    boolean claimFailure(long index, int attempt) {
        if (!failureInjected.compareAndSet(false, true)) {
            return false;
        }
        failureIndex = index;
        failureAttempt = attempt;
        failureNanos = System.nanoTime();
        return true;
    }

    void firstRecordOfAttempt(int attempt, long nanos) {
        firstRecordNanosByAttempt.merge(attempt, nanos, Math::min);
    }

    void endOfInput(long nanos) {
        endOfInputNanos.accumulateAndGet(nanos, Math::max);
    }

    // --- read by the runner ---

    /** Index of the last event the source emitted, -1 before the first one; goes back on a restore. */
    long position() {
        return position.get();
    }

    /** Marks a failure the runner injected from outside (a TaskManager killed). */
    void failureInjectedExternally(long nanos) {
        failureInjected.set(true);
        failureIndex = position();
        failureAttempt = highestAttempt();
        failureNanos = nanos;
    }

    boolean failureInjected() {
        return failureInjected.get();
    }

    long failureNanos() {
        return failureNanos;
    }

    long failureIndex() {
        return failureIndex;
    }

    /** The attempt that failed; a record of a higher attempt means the job runs again. */
    int failureAttempt() {
        return failureAttempt;
    }

    Map<Integer, Long> firstSourceIndexByAttempt() {
        return Map.copyOf(firstSourceIndexByAttempt);
    }

    /** When a keyed subtask of an attempt above {@code attempt} first processed a record, or -1. */
    long firstRecordNanosAfterAttempt(int attempt) {
        return firstRecordNanosByAttempt.entrySet().stream()
                .filter(e -> e.getKey() > attempt)
                .mapToLong(Map.Entry::getValue)
                .min()
                .orElse(-1);
    }

    long firstRecordNanos() {
        return firstRecordNanosByAttempt.values().stream().mapToLong(Long::longValue).min().orElse(-1);
    }

    int highestAttempt() {
        return firstRecordNanosByAttempt.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    long endOfInputNanos() {
        return endOfInputNanos.get();
    }
}
