package org.pdpm.flink.conformance;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.flink.pool.StatePools;
import org.apache.flink.runtime.state.CheckpointStorage;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.runtime.state.ttl.StateBackendTestContext;
import org.apache.flink.runtime.state.ttl.TtlStateTestBase;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.pdpm.flink.PdpmStateBackend;

/**
 * Flink's TTL suite (TtlStateTestBase: 16 templates over 9 state contexts) on the pdpm backend,
 * incremental clean-up included: the backend's states visit their entries in the store.
 * Budget: under a minute on 2 cores.
 */
public class PdpmTtlStateTest extends TtlStateTestBase {

    /**
     * Each test gets a fresh embedded pool: the suites never discard their checkpoints, so their
     * pins would otherwise pile up in one pool across hundreds of tests.
     */
    @AfterEach
    void closePools() {
        StatePools.closeAll();
    }


    @Override
    protected StateBackendTestContext createStateBackendTestContext(TtlTimeProvider timeProvider) {
        return new StateBackendTestContext(timeProvider) {
            @Override
            protected StateBackend createStateBackend() {
                return new PdpmStateBackend();
            }

            @Override
            protected CheckpointStorage createCheckpointStorage() {
                return new JobManagerCheckpointStorage();
            }
        };
    }

    /**
     * Checkpoints and native savepoints pin epochs rather than copy state, so TTL's clean-up in full
     * snapshots has no full snapshot to apply to (as with RocksDB's incremental checkpoints): the
     * base skips its full-snapshot clean-up templates when this is false.
     */
    @Override
    public boolean isSavepoint() {
        return false;
    }

    /*
     * incrementalCleanupSupported() stays false: the base's incremental clean-up templates inspect
     * the heap backend's state table (AbstractHeapState) and apply to it alone. The store's
     * visitors that incremental clean-up runs on are tested in PdpmTtlIncrementalCleanupTest.
     */
}
