package org.pdpm.jobs.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What one run of the sample job did and measured.
 *
 * @param stateBackendName the backend as the job's execution graph names it
 * @param jobStatus Flink's final job status, or {@code TIMED_OUT}
 * @param jobError the job's failure cause on one line, or null
 * @param eventsPerSecond events ÷ processing time (first record to end of input, less the recovery
 *     gap; replayed events are not counted again); NaN when the job did not finish its input
 * @param meanCheckpointMillis mean end-to-end duration of the completed checkpoints, -1 if none
 * @param failureAtIndex the event at which the failure was injected, -1 if none was
 * @param restoredCheckpointId the checkpoint the job restored from after the failure, -1 if none
 * @param resumedAtIndex the first event the source emitted after the restore, -1 if none
 * @param recoveryMillis from the failure to the first record processed by the restarted job, -1
 */
public record RunReport(
        String backend,
        String stateBackendName,
        SampleJobSettings settings,
        FailureMode failure,
        String jobStatus,
        String jobError,
        double seconds,
        double eventsPerSecond,
        long completedCheckpoints,
        long meanCheckpointMillis,
        long maxCheckpointMillis,
        long failureAtIndex,
        long restoredCheckpointId,
        long resumedAtIndex,
        long recoveryMillis,
        ResultCheck check) {

    public boolean failureInjected() {
        return failureAtIndex >= 0;
    }

    /** True when the job finished, the failure (if asked for) happened and was recovered from a checkpoint, and the results are exact. */
    public boolean ok() {
        return problems().isEmpty();
    }

    /** Why the run is not {@link #ok()}, for people; empty when it is. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (!"FINISHED".equals(jobStatus)) {
            problems.add("job " + jobStatus + (jobError == null ? "" : ": " + jobError));
        }
        if (failure != FailureMode.NONE) {
            if (!failureInjected()) {
                problems.add("the failure was not injected: no checkpoint completed before the job reached its end"
                        + " (use more events or a lower rate)");
            } else if (restoredCheckpointId < 0) {
                problems.add("the job did not restore a checkpoint after the failure");
            } else if (resumedAtIndex <= 0) {
                problems.add("the source restarted from the beginning, not from checkpoint " + restoredCheckpointId);
            } else if (recoveryMillis < 0) {
                problems.add("the restarted job never processed a record");
            }
        }
        if (check == null) {
            problems.add("results not checked");
        } else if (!check.correct()) {
            problems.add("results " + check.summary());
        }
        return problems;
    }

    /** The figures of this run, a few lines for people. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "job %s on %s (%s): %,d events, %,d users, %,d items, seed %d, parallelism %d%n",
                PurchasesJob.NAME, backend, stateBackendName, settings.events(), settings.users(), settings.items(),
                settings.seed(), settings.parallelism()));
        sb.append(String.format(Locale.ROOT, "status:       %s in %.1f s%s%n", jobStatus, seconds,
                jobError == null ? "" : " — " + jobError));
        sb.append(String.format(Locale.ROOT, "throughput:   %s events/s%n", Double.isNaN(eventsPerSecond)
                ? "-" : String.format(Locale.ROOT, "%,.0f", eventsPerSecond)));
        sb.append(String.format(Locale.ROOT, "checkpoints:  %d completed, mean %s ms, max %s ms%n",
                completedCheckpoints, orDash(meanCheckpointMillis), orDash(maxCheckpointMillis)));
        if (failure == FailureMode.NONE) {
            sb.append("failure:      none\n");
        } else if (!failureInjected()) {
            sb.append("failure:      ").append(failureName()).append(" asked for, not injected\n");
        } else {
            sb.append(String.format(Locale.ROOT,
                    "failure:      %s at event %,d; restored checkpoint %s, source resumed at event %s; recovery %s ms%n",
                    failureName(), failureAtIndex, orDash(restoredCheckpointId), orDash(resumedAtIndex),
                    orDash(recoveryMillis)));
        }
        sb.append("results:      ").append(check == null ? "not checked" : check.summary()).append('\n');
        sb.append("verdict:      ").append(ok() ? "ok" : "NOT OK — " + String.join("; ", problems())).append('\n');
        return sb.toString();
    }

    String failureName() {
        return switch (failure) {
            case NONE -> "none";
            case EXCEPTION -> "injected exception";
            case KILL_TASK_MANAGER -> "TaskManager killed";
        };
    }

    private static String orDash(long value) {
        return value < 0 ? "-" : String.format(Locale.ROOT, "%,d", value);
    }
}
