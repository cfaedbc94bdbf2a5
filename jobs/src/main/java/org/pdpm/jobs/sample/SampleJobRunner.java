package org.pdpm.jobs.sample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.checkpoint.RestoredCheckpointStats;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.util.stats.StatsSummarySnapshot;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.ExceptionUtils;

/**
 * Runs the sample job once on a {@link LocalFlinkCluster}: submits it with the backend chosen by
 * configuration alone ({@code state.backend.type}), checkpointing, a fixed-delay restart strategy
 * and file checkpoint storage in a temporary directory; injects the failure midway; watches
 * progress and checkpoints; then checks the sink's table against the expected result.
 */
public final class SampleJobRunner {

    private static final long POLL_MILLIS = 200;
    private static final int RESTART_ATTEMPTS = 3;
    private static final Duration RESTART_DELAY = Duration.ofMillis(200);
    private static final int PROGRESS_STEP_PERCENT = 10;

    /**
     * How to run.
     *
     * @param backend the {@code state.backend.type} value: pdpm, rocksdb, hashmap or a factory class
     * @param failAtFraction the failure comes once this fraction of the events was emitted and a
     *     checkpoint has completed with events after it
     * @param extraConfiguration Flink options for the job (e.g. a backend's own), set last so they win
     */
    public record Options(String backend, SampleJobSettings job, FailureMode failure, double failAtFraction,
                          Duration checkpointInterval, Duration timeout, Map<String, String> extraConfiguration) {
        public Options {
            extraConfiguration = Map.copyOf(extraConfiguration);
            if (!(failAtFraction > 0 && failAtFraction < 1)) {
                throw new IllegalArgumentException("failAtFraction=" + failAtFraction + " must be in (0, 1)");
            }
            if (checkpointInterval.toMillis() < 10) {
                throw new IllegalArgumentException("checkpointInterval=" + checkpointInterval + " must be at least 10 ms");
            }
        }

        public static Options of(String backend, SampleJobSettings job, FailureMode failure) {
            return new Options(backend, job, failure, 0.4, Duration.ofSeconds(1), Duration.ofMinutes(5), Map.of());
        }

        public Options withCheckpointInterval(Duration interval) {
            return new Options(backend, job, failure, failAtFraction, interval, timeout, extraConfiguration);
        }

        public Options withTimeout(Duration newTimeout) {
            return new Options(backend, job, failure, failAtFraction, checkpointInterval, newTimeout, extraConfiguration);
        }

        public Options withExtraConfiguration(Map<String, String> conf) {
            return new Options(backend, job, failure, failAtFraction, checkpointInterval, timeout, conf);
        }
    }

    private SampleJobRunner() {}

    /**
     * Runs the job and reports; {@code progress} receives lines for people while it runs.
     *
     * @throws IllegalArgumentException if the backend's class cannot be loaded here
     */
    public static RunReport run(LocalFlinkCluster cluster, Options options, Consumer<String> progress)
            throws Exception {
        StateBackends.requireLoadable(options.backend(), SampleJobRunner.class.getClassLoader());
        String runId = UUID.randomUUID().toString();
        RunProbe probe = RunProbe.register(runId);
        ResultTables.create(runId);
        Path checkpoints = Files.createTempDirectory("pdpm-checkpoints-");
        try {
            return new Execution(cluster, options, progress, runId, probe, checkpoints).run();
        } finally {
            RunProbe.unregister(runId);
            ResultTables.drop(runId);
            deleteRecursively(checkpoints);
        }
    }

    /** The job's configuration: the backend is nothing but its name. */
    static Configuration jobConfiguration(Options options, Path checkpoints) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.NAME, PurchasesJob.NAME + " on " + options.backend());
        conf.set(StateBackendOptions.STATE_BACKEND, options.backend());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, options.checkpointInterval());
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, RESTART_DELAY);
        conf.set(CoreOptions.DEFAULT_PARALLELISM, options.job().parallelism());
        conf.addAll(Configuration.fromMap(options.extraConfiguration()));
        return conf;
    }

    /** One run's state while it goes. */
    private static final class Execution {
        private final LocalFlinkCluster cluster;
        private final MiniCluster miniCluster;
        private final Options options;
        private final Consumer<String> progress;
        private final String runId;
        private final RunProbe probe;
        private final Path checkpoints;
        private final long events;

        private long lastCheckpointId = -1;
        private long positionAtCheckpointNotice = -1;
        private int lastPrintedPercent;
        private boolean failureAnnounced;
        private long recoveryMillis = -1;
        private boolean running;
        private long startNanos;

        Execution(LocalFlinkCluster cluster, Options options, Consumer<String> progress, String runId, RunProbe probe,
                  Path checkpoints) {
            this.cluster = cluster;
            this.miniCluster = cluster.miniCluster();
            this.options = options;
            this.progress = progress;
            this.runId = runId;
            this.probe = probe;
            this.checkpoints = checkpoints;
            this.events = options.job().events();
        }

        RunReport run() throws Exception {
            long failAtIndex = Math.min(events - 1, (long) (events * options.failAtFraction()));
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(jobConfiguration(options, checkpoints));
            PurchasesJob.addTo(env, options.job(), runId,
                    options.failure() == FailureMode.EXCEPTION ? failAtIndex : -1);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobId(new JobID());

            startNanos = System.nanoTime();
            JobID jobId = miniCluster.submitJob(graph).get().getJobID();
            var result = miniCluster.requestJobResult(jobId);
            boolean timedOut = false;
            while (!result.isDone()) {
                try {
                    result.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillRunning) {
                    // poll below
                }
                if (!timedOut && System.nanoTime() - startNanos > options.timeout().toNanos()) {
                    timedOut = true;
                    progress.accept("timed out after " + options.timeout().toSeconds() + " s: cancelling the job");
                    miniCluster.cancelJob(jobId);
                    continue;
                }
                observe(jobId, failAtIndex);
            }
            JobResult jobResult = result.get();
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            observeRecovery();

            ArchivedExecutionGraph executionGraph = miniCluster.getArchivedExecutionGraph(jobId).get();
            CheckpointStatsSnapshot stats = executionGraph.getCheckpointStatsSnapshot();
            StatsSummarySnapshot durations = stats.getSummaryStats().getEndToEndDurationStats();
            long completed = stats.getCounts().getNumberOfCompletedCheckpoints();
            RestoredCheckpointStats restored = stats.getLatestRestoredCheckpoint();

            String status = timedOut ? "TIMED_OUT" : jobResult.getJobStatus().map(Enum::name).orElse("UNKNOWN");
            String error = jobResult.getSerializedThrowable()
                    .map(t -> oneLine(ExceptionUtils.stripExecutionException(
                            t.deserializeError(SampleJobRunner.class.getClassLoader()))))
                    .orElse(null);

            ResultCheck check = ResultCheck.compare(ExpectedResults.compute(options.job()), Map.copyOf(ResultTables.table(runId)));
            return new RunReport(
                    options.backend(),
                    executionGraph.getStateBackendName().orElse("unknown"),
                    options.job(),
                    options.failure(),
                    status,
                    error,
                    seconds,
                    eventsPerSecond(),
                    completed,
                    durations.getCount() > 0 ? durations.getAverage() : -1,
                    durations.getCount() > 0 ? durations.getMaximum() : -1,
                    probe.failureInjected() ? probe.failureIndex() : -1,
                    restored == null ? -1 : restored.getCheckpointId(),
                    resumedAtIndex(),
                    recoveryMillis,
                    check);
        }

        private void observe(JobID jobId, long failAtIndex) throws Exception {
            if (!running && probe.firstRecordNanos() >= 0) {
                running = true;
                progress.accept(String.format(Locale.ROOT, "running: first record processed %,d ms after submission",
                        (probe.firstRecordNanos() - startNanos) / 1_000_000));
            }
            long position = probe.position();
            int percent = (int) ((position + 1) * 100 / events);
            CompletedCheckpointStats latest = latestCompletedCheckpoint(jobId);
            if (latest != null && latest.getCheckpointId() != lastCheckpointId) {
                lastCheckpointId = latest.getCheckpointId();
                positionAtCheckpointNotice = position;
                lastPrintedPercent = percent;
                progress.accept(String.format(Locale.ROOT, "%d%% events, checkpoint %d done in %d ms",
                        percent, latest.getCheckpointId(), latest.getEndToEndDuration()));
            } else if (percent >= lastPrintedPercent + PROGRESS_STEP_PERCENT) {
                lastPrintedPercent = percent;
                progress.accept(percent + "% events");
            }

            if (options.failure() == FailureMode.KILL_TASK_MANAGER && !probe.failureInjected()
                    && position >= failAtIndex && lastCheckpointId >= 0 && position > positionAtCheckpointNotice) {
                probe.failureInjectedExternally(System.nanoTime());
                LocalFlinkCluster.Termination killed = cluster.terminateOldestTaskManager();
                int replacement = cluster.startTaskManager();
                failureAnnounced = true;
                progress.accept(String.format(Locale.ROOT,
                        "%d%% events: killed TaskManager %d (latest checkpoint %d), started TaskManager %d",
                        percent, killed.index(), lastCheckpointId, replacement));
                killed.done().get(30, TimeUnit.SECONDS);
            }
            if (options.failure() == FailureMode.EXCEPTION && probe.failureInjected() && !failureAnnounced) {
                failureAnnounced = true;
                progress.accept(String.format(Locale.ROOT, "injected an exception at event %,d (latest checkpoint %d)",
                        probe.failureIndex(), lastCheckpointId));
            }
            if (recoveryMillis < 0 && observeRecovery()) {
                RestoredCheckpointStats restored = statsOf(jobId).getLatestRestoredCheckpoint();
                progress.accept(String.format(Locale.ROOT, "recovered from checkpoint %s: processing again %d ms after the failure",
                        restored == null ? "(none)" : Long.toString(restored.getCheckpointId()), recoveryMillis));
            }
        }

        /** Sets the recovery time once a restarted attempt processed a record; true when it did just now. */
        private boolean observeRecovery() {
            if (recoveryMillis >= 0 || !probe.failureInjected()) {
                return false;
            }
            long first = probe.firstRecordNanosAfterAttempt(probe.failureAttempt());
            if (first < 0) {
                return false;
            }
            recoveryMillis = Math.max(0, (first - probe.failureNanos()) / 1_000_000);
            return true;
        }

        private long resumedAtIndex() {
            if (!probe.failureInjected()) {
                return -1;
            }
            int failedAttempt = probe.failureAttempt();
            return probe.firstSourceIndexByAttempt().entrySet().stream()
                    .filter(e -> e.getKey() > failedAttempt)
                    .mapToLong(Map.Entry::getValue)
                    .min()
                    .orElse(-1);
        }

        private double eventsPerSecond() {
            long first = probe.firstRecordNanos();
            long end = probe.endOfInputNanos();
            if (first < 0 || end <= first) {
                return Double.NaN;
            }
            double seconds = (end - first) / 1e9 - Math.max(0, recoveryMillis) / 1e3;
            return seconds > 0 ? events / seconds : Double.NaN;
        }

        private CompletedCheckpointStats latestCompletedCheckpoint(JobID jobId) {
            CheckpointStatsSnapshot stats = statsOf(jobId);
            return stats == null ? null : stats.getHistory().getLatestCompletedCheckpoint();
        }

        private CheckpointStatsSnapshot statsOf(JobID jobId) {
            try {
                return miniCluster.getArchivedExecutionGraph(jobId).get(5, TimeUnit.SECONDS).getCheckpointStatsSnapshot();
            } catch (ExecutionException | TimeoutException e) {
                // The job may be between two states (restarting, finishing); the next poll asks again.
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    static String oneLine(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String top = t.getClass().getSimpleName() + ": " + t.getMessage();
        String cause = root == t ? "" : " (cause: " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
        return (top + cause).replaceAll("\\s*\\R\\s*", "; ");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
