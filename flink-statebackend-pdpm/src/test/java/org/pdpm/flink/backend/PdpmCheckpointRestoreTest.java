package org.pdpm.flink.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.flink.backend.BackendHarness.checkpoint;
import static org.pdpm.flink.backend.BackendHarness.get;
import static org.pdpm.flink.backend.BackendHarness.put;

import java.util.List;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.junit.jupiter.api.AfterEach;
import org.apache.flink.testutils.junit.extensions.parameterized.Parameter;
import org.apache.flink.testutils.junit.extensions.parameterized.ParameterizedTestExtension;
import org.apache.flink.testutils.junit.extensions.parameterized.Parameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.pool.StatePools;

/**
 * Checkpoints pin, restores fork (DESIGN §3, §4): what a restored backend sees is exactly the
 * checkpoint — not later writes, not a zombie's, not a sibling restore's — and a checkpoint's
 * handle does not grow with the state. On each store: Clover, and Direct and Central with their
 * copy-on-write lineages. Budget: a few seconds per store.
 */
@ExtendWith(ParameterizedTestExtension.class)
class PdpmCheckpointRestoreTest {

    @Parameter
    public PdpmOptions.StoreSystem system;

    @Parameters(name = "{0}")
    public static List<PdpmOptions.StoreSystem> systems() {
        return List.of(PdpmOptions.StoreSystem.values());
    }

    private BackendHarness harness;

    @BeforeEach
    void openHarness() {
        harness = new BackendHarness(backend(new Configuration()));
    }

    private PdpmStateBackend backend(Configuration config) {
        config.set(PdpmOptions.SYSTEM, system);
        return new PdpmStateBackend().configure(config, getClass().getClassLoader());
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
        StatePools.closeAll();
    }

    @TestTemplate
    void aRestoreSeesTheCheckpointAndNeitherLaterWritesNorAZombie() throws Exception {
        JobID job = new JobID();
        AbstractKeyedStateBackend<Integer> first = harness.open(job, new KeyGroupRange(0, 9), List.of());
        for (int k = 0; k < 50; k++) {
            put(first, k, "before-" + k);
        }
        KeyedStateHandle chk = checkpoint(first, 1);
        put(first, 7, "after");
        put(first, 1000, "new-after");

        AbstractKeyedStateBackend<Integer> restored = harness.open(job, chk);
        put(first, 8, "zombie");          // the earlier attempt keeps writing after the restore
        ((PdpmKeyedStateBackend<Integer>) first).flushWrites();   // into the store, not just its buffer
        for (int k = 0; k < 50; k++) {
            assertThat(get(restored, k)).isEqualTo("before-" + k);
        }
        assertThat(get(restored, 1000)).isNull();

        put(restored, 9, "restored");
        assertThat(get(restored, 9)).isEqualTo("restored");
        restored.dispose();
        first.dispose();
    }

    @TestTemplate
    void twoJobsRestoredFromOneCheckpointNeverSeeEachOther() throws Exception {
        AbstractKeyedStateBackend<Integer> origin = harness.open(new JobID(), new KeyGroupRange(0, 9), List.of());
        put(origin, 1, "origin");
        KeyedStateHandle chk = checkpoint(origin, 1);

        AbstractKeyedStateBackend<Integer> a = harness.open(new JobID(), chk);
        AbstractKeyedStateBackend<Integer> b = harness.open(new JobID(), chk);
        put(a, 1, "a");
        put(a, 2, "a-new");
        put(b, 3, "b-new");
        assertThat(get(b, 1)).isEqualTo("origin");
        assertThat(get(b, 2)).isNull();
        assertThat(get(a, 3)).isNull();
        assertThat(get(a, 1)).isEqualTo("a");
        a.dispose();
        b.dispose();
        origin.dispose();
    }

    @TestTemplate
    void rescalingForksEachNewRangeFromTheCheckpointsThatCoverIt() throws Exception {
        JobID job = new JobID();
        AbstractKeyedStateBackend<Integer> low = harness.open(job, new KeyGroupRange(0, 4), List.of());
        AbstractKeyedStateBackend<Integer> high = harness.open(job, new KeyGroupRange(5, 9), List.of());
        for (int k = 0; k < 200; k++) {
            put(group(k) <= 4 ? low : high, k, "v" + k);
        }
        KeyedStateHandle lowChk = checkpoint(low, 1);
        KeyedStateHandle highChk = checkpoint(high, 1);

        // Scale 2 -> 1: one backend over both checkpoints' ranges.
        AbstractKeyedStateBackend<Integer> one = harness.open(job, new KeyGroupRange(0, 9), List.of(lowChk, highChk));
        for (int k = 0; k < 200; k++) {
            assertThat(get(one, k)).isEqualTo("v" + k);
        }
        assertThat(((PdpmKeyedStateBackend<Integer>) one).lineageByRange()).hasSize(2);
        assertThat(one.getKeys("v", org.apache.flink.runtime.state.VoidNamespace.INSTANCE).count()).isEqualTo(200);
        one.dispose();
        low.dispose();
        high.dispose();
    }

    @TestTemplate
    void aCheckpointHandleDoesNotGrowWithTheState() throws Exception {
        AbstractKeyedStateBackend<Integer> small = harness.open(new JobID(), new KeyGroupRange(0, 9), List.of());
        for (int k = 0; k < 10; k++) {
            put(small, k, "x".repeat(100));
        }
        AbstractKeyedStateBackend<Integer> large = harness.open(new JobID(), new KeyGroupRange(0, 9), List.of());
        for (int k = 0; k < 5_000; k++) {
            put(large, k, "x".repeat(100));
        }
        long smallBytes = metaBytes(checkpoint(small, 1));
        long largeBytes = metaBytes(checkpoint(large, 1));
        assertThat(largeBytes).isEqualTo(smallBytes).isLessThan(1024);
        small.dispose();
        large.dispose();
    }

    @TestTemplate
    void discardingACheckpointReleasesItsPins() throws Exception {
        AbstractKeyedStateBackend<Integer> b = harness.open(new JobID(), new KeyGroupRange(0, 9), List.of());
        put(b, 1, "one");
        var pool = ((PdpmKeyedStateBackend<Integer>) b).pool();
        int before = pool.pins().size();
        KeyedStateHandle chk = checkpoint(b, 1);
        assertThat(pool.pins()).hasSize(before + 1);
        chk.discardState();
        assertThat(pool.pins()).hasSize(before);
        b.dispose();
        // Clover refuses the unpinned point; Direct and Central have collected the dropped lineage whole.
        assertThatThrownBy(() -> harness.open(new JobID(), chk)).hasStackTraceContaining(
                system == PdpmOptions.StoreSystem.CLOVER ? "not pinned" : "dropped and collected; nothing to fork from");
    }

    @TestTemplate
    void aFullPoolFailsTheWriteSayingWhatHoldsTheSpace() throws Exception {
        Configuration config = new Configuration();
        config.set(PdpmOptions.LOCAL_SIZE, MemorySize.parse("16mb"));
        try (BackendHarness small = new BackendHarness(backend(config))) {
            AbstractKeyedStateBackend<Integer> b = small.open(new JobID(), new KeyGroupRange(0, 9), List.of());
            String big = "x".repeat(3_000);   // within Direct's and Central's 4 KiB values
            var failure = assertThatThrownBy(() -> {
                for (int k = 0; k < 100_000; k++) {
                    put(b, k, big);
                    if (k % 10 == 0) {
                        checkpoint(b, k);   // pins keep every version alive
                    }
                }
            }).isInstanceOf(SpaceExhaustedException.class);
            if (system == PdpmOptions.StoreSystem.CLOVER) {
                failure.hasMessageContaining("pins held");
            }
            b.dispose();
        }
    }

    private static int group(int key) {
        return KeyGroupRangeAssignment.assignToKeyGroup(key, BackendHarness.KEY_GROUPS);
    }

    private static long metaBytes(KeyedStateHandle h) {
        return ((ByteStreamStateHandle) ((IncrementalRemoteKeyedStateHandle) h).getMetaDataStateHandle()).getData().length;
    }
}
