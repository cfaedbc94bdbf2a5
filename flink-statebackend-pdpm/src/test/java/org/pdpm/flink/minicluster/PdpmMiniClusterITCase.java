package org.pdpm.flink.minicluster;

import org.pdpm.core.api.Lineages;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.pool.PoolSpec;
import org.pdpm.flink.pool.StatePools;
import org.pdpm.core.clover.MetadataService;

/**
 * The pdpm backend under Flink's MiniCluster (two TaskManagers of two slots): exact results through
 * rescaling 2 → 3 → 1 by canonical savepoints; checkpoint time that does not grow with the state;
 * and no state files in the TaskManagers' directories. Budget: about two minutes on an idle 2-core
 * machine (the 10^6-key phase most of it).
 */
class PdpmMiniClusterITCase {

    private static final Path TMP = tempDir();
    private static final long LARGE = Long.getLong("pdpm.it.large-keys", 1_000_000);
    /** The job counts as stuck when no event is processed for this long. */
    private static final Duration STALL = Duration.ofMinutes(1);
    /** Longest wait for one phase, progress or not (idle machine: about 90 s for LARGE). */
    private static final Duration AWAIT_AT_MOST = Duration.ofMinutes(10);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(2)
                    .setNumberSlotsPerTaskManager(2)
                    .setConfiguration(clusterConfig())
                    .build());

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("pdpm-it-tm-");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Configuration clusterConfig() {
        Configuration c = new Configuration();
        c.set(CoreOptions.TMP_DIRS, TMP.toString());
        return c;
    }

    private static Configuration jobConfig() {
        Configuration c = new Configuration();
        c.set(StateBackendOptions.STATE_BACKEND, "pdpm");
        c.set(PdpmOptions.LOCAL_SIZE, MemorySize.parse("1g"));
        return c;
    }

    @BeforeEach
    void reset() {
        CountingJob.reset();
    }

    /** Each test gets its own embedded pool (the jobs are over; their pools' contents are not needed). */
    @AfterEach
    void closePools() {
        StatePools.closeAll();
    }

    @Test
    void rescalingTwoThreeOneThroughCanonicalSavepointsKeepsExactCounts(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        long events = 30_000;
        long keys = 100;
        // Slow enough that each stop comes long before the sequence ends, even on a busy machine.
        JobClient p2 = CountingJob.start(jobConfig(), 2, events, keys, 2_000, false, 200, null);
        awaitProcessed(4_000);
        String first = p2.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();

        JobClient p3 = CountingJob.start(jobConfig(), 3, events, keys, 2_000, false, 200, first);
        awaitProcessed(CountingJob.PROCESSED.get() + 4_000);
        String second = p3.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();

        JobClient p1 = CountingJob.start(jobConfig(), 1, events, keys, 20_000, false, 200, second);
        p1.getJobExecutionResult().get();

        assertExact(events, keys);
        // Dozens of checkpoints were taken; Flink discarded the subsumed ones through the pdpm://
        // file system, which released their pins. What stays: the retained checkpoint's pin.
        List<Lineages.Pin> pins = StatePools.get(PoolSpec.from(jobConfig())).pins();
        assertThat(pins).as("pins left after the jobs").hasSizeLessThanOrEqualTo(1);
    }

    /** Every key counted each of its events once, and saw the timer of every window it had events in fire. */
    private static void assertExact(long events, long keys) {
        assertThat(CountingJob.COUNTS).hasSize((int) keys);
        for (long k = 0; k < keys; k++) {
            assertThat(CountingJob.COUNTS.get(k)).as("count of key %d", k).isEqualTo(events / keys);
            assertThat(CountingJob.FIRED.get(k)).as("windows whose timer fired for key %d", k).isEqualTo(events / CountingJob.WINDOW);
        }
    }

    @Test
    void checkpointTimeDoesNotGrowWithTheStateAndNoStateFilesAreWritten(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        CompletedCheckpointStats small = checkpointAfter(cluster, 1_000);
        CompletedCheckpointStats large = checkpointAfter(cluster, LARGE);
        System.out.printf("pdpm checkpoint on the MiniCluster: %d keys in %d ms end to end, %d ms in the tasks"
                        + " (%d bytes); %d keys in %d ms end to end, %d ms in the tasks (%d bytes)%n",
                1_000, small.getEndToEndDuration(), inTasks(small), small.getStateSize(), LARGE,
                large.getEndToEndDuration(), inTasks(large), large.getStateSize());
        assertThat(large.getStateSize()).isLessThan(small.getStateSize() + 4096);
        // End to end includes barrier alignment, which load on the machine stretches; what the
        // backend does is the tasks' synchronous and asynchronous parts.
        assertThat(inTasks(large)).isLessThan(Math.max(2 * inTasks(small), inTasks(small) + 200));
        try (Stream<Path> files = Files.walk(TMP)) {
            List<Path> stateFiles = files.filter(Files::isRegularFile)
                    .filter(p -> !p.toString().contains("blobStore")).toList();
            assertThat(stateFiles).as("files in the TaskManagers' directories").isEmpty();
        }
    }

    /** The slowest subtask's synchronous plus asynchronous checkpoint time, over all tasks. */
    private static long inTasks(CompletedCheckpointStats stats) {
        long most = 0;
        for (TaskStateStats task : stats.getAllTaskStateStats()) {
            TaskStateStats.TaskStateStatsSummary s = task.getSummaryStats();
            most = Math.max(most, s.getSyncCheckpointDurationStats().getMaximum()
                    + s.getAsyncCheckpointDurationStats().getMaximum());
        }
        return most;
    }

    /** Runs the job until {@code keys} distinct keys are in state, checkpoints it and cancels it. */
    private static CompletedCheckpointStats checkpointAfter(MiniCluster cluster, long keys) throws Exception {
        CountingJob.reset();
        JobClient job = CountingJob.start(jobConfig(), 2, Long.MAX_VALUE, keys, 1_000_000, true, 3_600_000, null);
        JobID id = job.getJobID();
        try {
            awaitProcessed(keys + 1_000);   // every key in state, and the backlog drained
            cluster.triggerCheckpoint(id).get();
            return cluster.getExecutionGraph(id).get().getCheckpointStatsSnapshot().getHistory()
                    .getLatestCompletedCheckpoint();
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Waits while the job makes progress: it fails when a minute passes without a new event (a
     * stuck job), or after ten minutes in all. Processing 10^6 events takes about 90 s on an idle
     * 2-core machine and 2-3 times that on a busy one, so a fixed deadline would measure the
     * machine, which this test does not.
     */
    private static void awaitProcessed(long events) throws InterruptedException {
        long start = System.nanoTime();
        long lastProgress = start;
        long seen = CountingJob.PROCESSED.get();
        while (seen < events) {
            long now = System.nanoTime();
            if (now - lastProgress > STALL.toNanos() || now - start > AWAIT_AT_MOST.toNanos()) {
                throw new AssertionError("only " + seen + " of " + events + " events processed after "
                        + Duration.ofNanos(now - start).toSeconds() + " s");
            }
            Thread.sleep(20);
            long processed = CountingJob.PROCESSED.get();
            if (processed > seen) {
                seen = processed;
                lastProgress = System.nanoTime();
            }
        }
    }
}
