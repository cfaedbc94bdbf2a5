package org.pdpm.jobs.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sample job on a MiniCluster of two TaskManagers (one slot each, parallelism 2, so both run
 * tasks), per backend: with an injected exception, and with a TaskManager terminated and replaced,
 * the job restores a checkpoint taken midway and its output is exactly the expected one.
 *
 * <p>The backends are {@link TestedBackends#all()}; adding one there adds it here.
 */
class PurchasesJobITCase {

    /** 100k events at 20k/s: about 5 s of input, so a checkpoint every 300 ms lands well before 40 %. */
    private static final SampleJobSettings JOB = new SampleJobSettings(
            100_000, 2_000, SampleJobSettings.DEFAULT_ITEMS, 7, 10_000, 2, 20_000);

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2)
            .setNumberSlotsPerTaskManager(1)
            .build());

    private static LocalFlinkCluster cluster;

    @BeforeAll
    static void attach(@InjectMiniCluster MiniCluster miniCluster) {
        cluster = LocalFlinkCluster.attach(miniCluster, 2);
    }

    private static SampleJobRunner.Options options(String backend, FailureMode failure) {
        return SampleJobRunner.Options.of(backend, JOB, failure)
                .withCheckpointInterval(Duration.ofMillis(300))
                .withTimeout(Duration.ofSeconds(50));
    }

    /** Budget: 60 s per backend (about 8 s here). */
    @ParameterizedTest
    @MethodSource("org.pdpm.jobs.sample.TestedBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void exactlyOnceAfterAnInjectedException(String backend) throws Exception {
        List<String> progress = new ArrayList<>();
        RunReport report = SampleJobRunner.run(cluster, options(backend, FailureMode.EXCEPTION), progress::add);

        assertRecoveredExactlyOnce(report, backend, progress);
    }

    /** Budget: 60 s per backend (about 10 s here). */
    @ParameterizedTest
    @MethodSource("org.pdpm.jobs.sample.TestedBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void exactlyOnceAfterATaskManagerIsTerminatedAndReplaced(String backend) throws Exception {
        List<String> progress = new ArrayList<>();
        RunReport report = SampleJobRunner.run(cluster, options(backend, FailureMode.KILL_TASK_MANAGER), progress::add);

        assertRecoveredExactlyOnce(report, backend, progress);
        assertThat(progress).anySatisfy(line -> assertThat(line).contains("killed TaskManager"));
    }

    private static void assertRecoveredExactlyOnce(RunReport report, String backend, List<String> progress) {
        String context = String.join("\n", progress) + "\n" + report.describe();
        // Kept in the test's output file (surefire) for whoever reads a failure or the timings.
        System.out.println(context);
        assertThat(report.jobStatus()).as(context).isEqualTo("FINISHED");
        assertThat(report.stateBackendName()).as(context).containsIgnoringCase(backend);
        // The failure came after a checkpoint, the job restored it and the source resumed past the start:
        // the restored state, not a replay from scratch, carried the first part of the input.
        assertThat(report.failureAtIndex()).as(context).isBetween(JOB.events() * 4 / 10, JOB.events() - 1);
        assertThat(report.restoredCheckpointId()).as(context).isPositive();
        assertThat(report.resumedAtIndex()).as(context).isPositive().isLessThanOrEqualTo(report.failureAtIndex());
        assertThat(report.recoveryMillis()).as(context).isNotNegative();
        assertThat(report.completedCheckpoints()).as(context).isGreaterThanOrEqualTo(2);
        assertThat(report.meanCheckpointMillis()).as(context).isNotNegative();
        assertThat(report.maxCheckpointMillis()).as(context).isGreaterThanOrEqualTo(report.meanCheckpointMillis());
        // Exactly-once: every row equals the expected one, none missing, none extra, no event counted twice.
        ResultCheck check = report.check();
        assertThat(check.missingRows()).as(context).isZero();
        assertThat(check.differingRows()).as(context).isZero();
        assertThat(check.unexpectedRows()).as(context).isZero();
        assertThat(check.actualEvents()).as(context).isEqualTo(JOB.events());
        assertThat(check.actualAmount()).as(context).isEqualTo(check.expectedAmount());
        assertThat(check.userTotals()).as(context).isEqualTo(JOB.users());
        assertThat(check.windows()).as(context).isGreaterThan(JOB.users());
        assertThat(report.ok()).as(context).isTrue();
    }
}
