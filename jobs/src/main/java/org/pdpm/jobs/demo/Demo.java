package org.pdpm.jobs.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.pdpm.jobs.sample.FailureMode;
import org.pdpm.jobs.sample.LocalFlinkCluster;
import org.pdpm.jobs.sample.PurchasesJob;
import org.pdpm.jobs.sample.RunReport;
import org.pdpm.jobs.sample.SampleJobRunner;
import org.pdpm.jobs.sample.SampleJobSettings;
import org.pdpm.jobs.sample.StateBackends;

/**
 * {@code pdpm demo}: the sample job on each backend in turn, in this JVM — a MiniCluster with two
 * TaskManagers per backend, a TaskManager killed midway and replaced, the result checked
 * exactly-once — then the backends side by side.
 */
public final class Demo {

    public static final int TASK_MANAGERS = 2;

    /**
     * @param backends {@code state.backend.type} values, run in this order
     * @param failure whether to kill a TaskManager midway
     * @param flinkConfiguration extra Flink options for every run
     */
    public record Settings(List<String> backends, SampleJobSettings job, boolean failure, Duration checkpointInterval,
                           Map<String, String> flinkConfiguration) {
        public Settings {
            backends = List.copyOf(backends);
            flinkConfiguration = Map.copyOf(flinkConfiguration);
            if (backends.isEmpty()) {
                throw new IllegalArgumentException("backends is empty");
            }
            if (failure && job.parallelism() < TASK_MANAGERS) {
                throw new IllegalArgumentException("parallelism=" + job.parallelism()
                        + " leaves a TaskManager without tasks, so killing one may miss the job; use at least "
                        + TASK_MANAGERS + ", or no failure");
            }
        }
    }

    private Demo() {}

    /**
     * Runs every backend and prints progress, then the table, to {@code out}. Checks first that
     * every backend can be loaded, so a missing one fails before anything runs.
     *
     * @throws IllegalArgumentException naming a backend whose class cannot be loaded
     */
    public static List<RunReport> run(Settings settings, PrintWriter out) throws Exception {
        for (String backend : settings.backends()) {
            StateBackends.requireLoadable(backend, Demo.class.getClassLoader());
        }
        SampleJobSettings job = settings.job();
        out.printf(Locale.ROOT, "pdpm demo: job '%s' — %,d purchases of %,d users, value + map state, %d s event-time windows;%n",
                PurchasesJob.NAME, job.events(), job.users(), job.windowMillis() / 1000);
        out.printf(Locale.ROOT, "  a MiniCluster of %d TaskManagers, parallelism %d, a checkpoint every %d ms%s%n",
                TASK_MANAGERS, job.parallelism(), settings.checkpointInterval().toMillis(),
                settings.failure() ? ", a TaskManager killed at ~40% of the events and replaced" : ", no failure");
        if (!settings.flinkConfiguration().isEmpty()) {
            out.println("  Flink options: " + new java.util.TreeMap<>(settings.flinkConfiguration()));
        }
        out.flush();
        List<RunReport> reports = new ArrayList<>();
        int slotsPerTaskManager = (job.parallelism() + TASK_MANAGERS - 1) / TASK_MANAGERS;
        for (String backend : settings.backends()) {
            String prefix = "[" + backend + "] ";
            SampleJobRunner.Options options = SampleJobRunner.Options.of(backend, job,
                            settings.failure() ? FailureMode.KILL_TASK_MANAGER : FailureMode.NONE)
                    .withCheckpointInterval(settings.checkpointInterval())
                    .withExtraConfiguration(settings.flinkConfiguration());
            out.println(prefix + "starting");
            out.flush();
            RunReport report;
            try (LocalFlinkCluster cluster = LocalFlinkCluster.start(TASK_MANAGERS, slotsPerTaskManager)) {
                report = SampleJobRunner.run(cluster, options, line -> {
                    out.println(prefix + line);
                    out.flush();
                });
            }
            out.printf(Locale.ROOT, "%s%s in %.1f s; results %s%n", prefix, report.jobStatus().toLowerCase(Locale.ROOT),
                    report.seconds(), report.check().summary());
            for (String problem : report.problems()) {
                if (!problem.startsWith("results ")) {
                    out.println(prefix + "problem: " + problem);
                }
            }
            out.flush();
            reports.add(report);
        }
        out.println();
        out.print(DemoTable.format(reports));
        out.flush();
        return reports;
    }
}
