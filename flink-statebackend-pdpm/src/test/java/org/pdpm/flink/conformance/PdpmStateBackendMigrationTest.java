package org.pdpm.flink.conformance;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.flink.pool.StatePools;
import java.util.List;
import org.apache.flink.runtime.state.CheckpointStorage;
import org.apache.flink.testutils.junit.extensions.parameterized.ParameterizedTestExtension;
import org.apache.flink.testutils.junit.extensions.parameterized.Parameters;
import org.junit.jupiter.api.extension.ExtendWith;
import org.apache.flink.runtime.state.StateBackendMigrationTestBase;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.pdpm.flink.PdpmStateBackend;

/**
 * Flink's serializer-migration suite (StateBackendMigrationTestBase) on the pdpm backend: values
 * restored from a pinned checkpoint are re-encoded in the store when a serializer's schema changes.
 * Budget: under a minute on 2 cores.
 */
@ExtendWith(ParameterizedTestExtension.class)
public class PdpmStateBackendMigrationTest extends StateBackendMigrationTestBase<PdpmStateBackend> {

    /**
     * Each test gets a fresh embedded pool: the suites never discard their checkpoints, so their
     * pins would otherwise pile up in one pool across hundreds of tests.
     */
    @AfterEach
    void closePools() {
        StatePools.closeAll();
    }


    /** The base's templates are parameterised; the backend has one configuration to run them in. */
    @Parameters(name = "pdpm")
    public static List<Object[]> configurations() {
        return List.<Object[]>of(new Object[0]);
    }

    @Override
    protected PdpmStateBackend getStateBackend() {
        return new PdpmStateBackend();
    }

    @Override
    protected CheckpointStorage getCheckpointStorage() {
        return new JobManagerCheckpointStorage();
    }
}
