package org.pdpm.flink.conformance;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.flink.pool.StatePools;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.CheckpointStorage;
import org.apache.flink.runtime.state.ConfigurableStateBackend;
import org.apache.flink.runtime.state.StateBackendTestBase;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.testutils.junit.extensions.parameterized.Parameter;
import org.apache.flink.testutils.junit.extensions.parameterized.ParameterizedTestExtension;
import org.apache.flink.testutils.junit.extensions.parameterized.Parameters;
import org.junit.jupiter.api.extension.ExtendWith;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmStateBackend;

/**
 * Flink's own conformance suite for keyed state backends (StateBackendTestBase, flink-runtime 2.3.0
 * tests jar) on the pdpm backend on the embedded local pool, with timers in the store: over Clover,
 * and over pDPM-Direct and pDPM-Central with their copy-on-write lineages. Budget: about a minute
 * per store on 2 cores.
 */
@ExtendWith(ParameterizedTestExtension.class)
public class PdpmStateBackendTest extends StateBackendTestBase<PdpmStateBackend> {

    /**
     * Each test gets a fresh embedded pool: the suites never discard their checkpoints, so their
     * pins would otherwise pile up in one pool across hundreds of tests.
     */
    @AfterEach
    void closePools() {
        StatePools.closeAll();
    }


    @Parameter(0)
    public PdpmOptions.StoreSystem system;

    @Parameter(1)
    public PdpmOptions.TimerService timers;

    @Parameters(name = "{0}, timers in {1}")
    public static List<Object[]> storesAndTimerServices() {
        return List.<Object[]>of(
                new Object[] {PdpmOptions.StoreSystem.CLOVER, PdpmOptions.TimerService.STORE},
                new Object[] {PdpmOptions.StoreSystem.DIRECT, PdpmOptions.TimerService.STORE},
                new Object[] {PdpmOptions.StoreSystem.CENTRAL, PdpmOptions.TimerService.STORE});
    }

    @Override
    protected ConfigurableStateBackend getStateBackend() {
        Configuration config = new Configuration();
        config.set(PdpmOptions.SYSTEM, system);
        config.set(PdpmOptions.TIMER_SERVICE, timers);
        return new PdpmStateBackend().configure(config, getClass().getClassLoader());
    }

    /** Checkpoint handles are a few hundred bytes; the JobManager's memory holds them. */
    @Override
    protected CheckpointStorage getCheckpointStorage() {
        return new JobManagerCheckpointStorage();
    }

    /** State stays serialized in the store, so restoring does not need the old serializers (like RocksDB). */
    @Override
    protected boolean isSerializerPresenceRequiredOnRestore() {
        return false;
    }

    /** A checkpoint is a pin, taken synchronously; there is nothing to write asynchronously. */
    @Override
    protected boolean supportsAsynchronousSnapshots() {
        return false;
    }

    /** A checkpoint writes no stream: its handle carries its few bytes inline. */
    @Override
    protected boolean snapshotUsesStreamFactory() {
        return false;
    }

    @Override
    protected boolean isSafeToReuseKVState() {
        return true;
    }
}
