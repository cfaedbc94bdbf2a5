package org.pdpm.jobs.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rescaling through savepoints, per backend: the sample job runs at parallelism 2, stops with a
 * canonical savepoint at a third of its input, resumes from it at parallelism 3, stops again at two
 * thirds, and finishes at parallelism 1. The keyed state (value, map, windows, timers) is
 * redistributed twice, and the final output must still be exactly the expected one. The same
 * chain also moves the job to another backend and back.
 *
 * <p>The backends are {@link TestedBackends#all()}; adding one there adds it here (for pdpm, the
 * second test then runs pdpm → rocksdb → pdpm).
 */
class PurchasesJobRescaleITCase {

    /** 60k events at 15k/s: 4 s of input across the three segments. */
    private static final SampleJobSettings JOB = new SampleJobSettings(
            60_000, 1_000, SampleJobSettings.DEFAULT_ITEMS, 11, 5_000, 2, 15_000);

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2)
            .setNumberSlotsPerTaskManager(2)
            .build());

    /** Budget: 60 s per backend (about 10 s here). */
    @ParameterizedTest
    @MethodSource("org.pdpm.jobs.sample.TestedBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void rescalesTwoToThreeToOneThroughSavepointsWithExactResults(
            String backend, @InjectMiniCluster MiniCluster miniCluster, @TempDir Path dir) throws Exception {
        assertExact(runChain(miniCluster, dir, backend, backend, backend));
    }

    /**
     * The same chain across backends, through canonical savepoints: {@code backend} → the other
     * one → {@code backend}. Budget: 60 s per backend (about 10 s here).
     */
    @ParameterizedTest
    @MethodSource("org.pdpm.jobs.sample.TestedBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void movesToAnotherBackendAndBackThroughCanonicalSavepointsWithExactResults(
            String backend, @InjectMiniCluster MiniCluster miniCluster, @TempDir Path dir) throws Exception {
        String other = backend.equals("rocksdb") ? "hashmap" : "rocksdb";
        assertExact(runChain(miniCluster, dir, backend, other, backend));
    }

    /** The check is not blind: a backend that restores nothing fails it. Budget: 60 s (about 8 s here). */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aBackendThatRestoresNothingFailsTheCheck(@InjectMiniCluster MiniCluster miniCluster, @TempDir Path dir)
            throws Exception {
        ResultCheck check = runChain(miniCluster, dir, "hashmap", AmnesicStateBackendFactory.class.getName(), "hashmap");
        assertThat(check.correct()).as(check.summary()).isFalse();
        assertThat(check.actualEvents()).isLessThan(JOB.events());
    }

    private static void assertExact(ResultCheck check) {
        assertThat(check.correct()).as(check.summary()).isTrue();
        assertThat(check.userTotals()).isEqualTo(JOB.users());
        assertThat(check.actualEvents()).isEqualTo(JOB.events());
    }

    /** Runs the three segments and returns the check of the final output. */
    private static ResultCheck runChain(MiniCluster miniCluster, Path dir, String first, String second, String third)
            throws Exception {
        String runId = UUID.randomUUID().toString();
        ResultTables.create(runId);
        try {
            Segment a = runSegment(miniCluster, first, 2, runId, null, JOB.events() / 3, dir);
            Segment b = runSegment(miniCluster, second, 3, runId, a.savepoint(), 2 * JOB.events() / 3, dir);
            Segment c = runSegment(miniCluster, third, 1, runId, b.savepoint(), -1, dir);

            // Each resumed segment started where the savepoint left the source, not from the beginning.
            assertThat(a.firstIndex()).isZero();
            assertThat(b.firstIndex()).isGreaterThanOrEqualTo(JOB.events() / 3).isLessThanOrEqualTo(a.lastIndex() + 1);
            assertThat(c.firstIndex()).isGreaterThanOrEqualTo(2 * JOB.events() / 3).isLessThanOrEqualTo(b.lastIndex() + 1);
            assertThat(c.lastIndex()).isEqualTo(JOB.events() - 1);

            return ResultCheck.compare(ExpectedResults.compute(JOB), Map.copyOf(ResultTables.table(runId)));
        } finally {
            ResultTables.drop(runId);
        }
    }

    /** One job of the chain: where its source started and stopped, and the savepoint it left. */
    private record Segment(long firstIndex, long lastIndex, String savepoint) {}

    /** Runs the job from {@code restorePath} (or from scratch) until {@code stopAtIndex}, or to its end when -1. */
    private static Segment runSegment(MiniCluster miniCluster, String backend, int parallelism, String runId,
                                      String restorePath, long stopAtIndex, Path dir) throws Exception {
        SampleJobSettings job = JOB.withParallelism(parallelism);
        RunProbe probe = RunProbe.register(runId);
        try {
            Configuration conf = SampleJobRunner.jobConfiguration(
                    SampleJobRunner.Options.of(backend, job, FailureMode.NONE).withCheckpointInterval(Duration.ofMillis(500)),
                    Files.createDirectories(dir.resolve("checkpoints")));
            if (restorePath != null) {
                conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restorePath);
            }
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
            PurchasesJob.addTo(env, job, runId, -1);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobId(new JobID());
            JobID jobId = miniCluster.submitJob(graph).get().getJobID();

            String savepoint = null;
            if (stopAtIndex >= 0) {
                while (probe.position() < stopAtIndex) {
                    assertThat(miniCluster.requestJobResult(jobId).isDone()).as("job ended before the savepoint").isFalse();
                    Thread.sleep(20);
                }
                savepoint = miniCluster.stopWithSavepoint(jobId, dir.resolve("savepoints").toUri().toString(), false,
                        SavepointFormatType.CANONICAL).get();
            }
            JobResult result = miniCluster.requestJobResult(jobId).get();
            assertThat(result.isSuccess()).as("%s", result.getSerializedThrowable()).isTrue();
            String expectedName = backend.contains(".") ? "Backend" : backend;
            assertThat(miniCluster.getArchivedExecutionGraph(jobId).get().getStateBackendName())
                    .hasValueSatisfying(name -> assertThat(name).containsIgnoringCase(expectedName));
            return new Segment(probe.firstSourceIndexByAttempt().get(0), probe.position(), savepoint);
        } finally {
            RunProbe.unregister(runId);
        }
    }
}
