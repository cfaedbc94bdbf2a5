package org.pdpm.flink.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RunnableFuture;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.fs.CloseableRegistry;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.CheckpointStorageLocationReference;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyedStateBackendParametersImpl;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.SnapshotResult;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.StreamOperatorStateHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.pool.StatePools;

/**
 * Canonical savepoints carry state between backends: pdpm writes Flink's portable format (while
 * writes go on, from pinned epochs), RocksDB and the heap backend read it, and pdpm reads theirs —
 * value, list and map state. Budget: a few seconds.
 */
class PdpmCanonicalSavepointTest {

    private static final int KEYS = 300;
    private static final States D = new States();
    private final MockEnvironment env = MockEnvironment.builder().build();
    private final List<AbstractKeyedStateBackend<Integer>> opened = new ArrayList<>();

    /** The states the job uses. */
    private static final class States {
        final org.apache.flink.api.common.state.ValueStateDescriptor<String> value =
                new org.apache.flink.api.common.state.ValueStateDescriptor<>("value", String.class);
        final ListStateDescriptor<Long> list = new ListStateDescriptor<>("list", Long.class);
        final MapStateDescriptor<String, Integer> map = new MapStateDescriptor<>("map", String.class, Integer.class);
    }

    @AfterEach
    void close() throws Exception {
        opened.forEach(AbstractKeyedStateBackend::dispose);
        env.close();
        StatePools.closeAll();
    }

    private AbstractKeyedStateBackend<Integer> open(StateBackend backend, List<KeyedStateHandle> handles)
            throws Exception {
        AbstractKeyedStateBackend<Integer> b = (AbstractKeyedStateBackend<Integer>) backend.createKeyedStateBackend(
                new KeyedStateBackendParametersImpl<>(env, new JobID(), "op", IntSerializer.INSTANCE, 16,
                        new KeyGroupRange(0, 15), env.getTaskKvStateRegistry(), TtlTimeProvider.DEFAULT,
                        new UnregisteredMetricsGroup(), handles, new CloseableRegistry()));
        opened.add(b);
        return b;
    }

    private static void fill(AbstractKeyedStateBackend<Integer> b) throws Exception {
        for (int k = 0; k < KEYS; k++) {
            b.setCurrentKey(k);
            value(b).update("v" + k);
            list(b).addAll(List.of((long) k, k + 1L));
            map(b).put("a", k);
            map(b).put("b", -k);
        }
    }

    private static void check(AbstractKeyedStateBackend<Integer> b) throws Exception {
        for (int k = 0; k < KEYS; k++) {
            b.setCurrentKey(k);
            assertThat(value(b).value()).isEqualTo("v" + k);
            assertThat(list(b).get()).containsExactly((long) k, k + 1L);
            Map<String, Integer> m = new HashMap<>();
            map(b).entries().forEach(e -> m.put(e.getKey(), e.getValue()));
            assertThat(m).containsExactlyInAnyOrderEntriesOf(Map.of("a", k, "b", -k));
        }
    }

    private static org.apache.flink.api.common.state.ValueState<String> value(AbstractKeyedStateBackend<Integer> b)
            throws Exception {
        return b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, D.value);
    }

    private static ListState<Long> list(AbstractKeyedStateBackend<Integer> b) throws Exception {
        return b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, D.list);
    }

    private static MapState<String, Integer> map(AbstractKeyedStateBackend<Integer> b) throws Exception {
        return b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, D.map);
    }

    /** Takes a canonical savepoint the way a stream operator does. */
    private static KeyedStateHandle savepoint(AbstractKeyedStateBackend<Integer> b, Runnable whileWriting)
            throws Exception {
        RunnableFuture<SnapshotResult<KeyedStateHandle>> f = StreamOperatorStateHandler
                .prepareCanonicalSavepoint(b, new CloseableRegistry())
                .snapshot(7, 7, new MemCheckpointStreamFactory(64 << 20), new CheckpointOptions(
                        SavepointType.savepoint(SavepointFormatType.CANONICAL),
                        CheckpointStorageLocationReference.getDefault()));
        whileWriting.run();
        f.run();
        return f.get().getJobManagerOwnedSnapshot();
    }

    @Test
    void pdpmToRocksDbToHashMapToPdpm() throws Exception {
        AbstractKeyedStateBackend<Integer> pdpm = open(new PdpmStateBackend(), List.of());
        fill(pdpm);
        KeyedStateHandle fromPdpm = savepoint(pdpm, () -> {
            try {
                pdpm.setCurrentKey(0);
                value(pdpm).update("written after the savepoint began");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        AbstractKeyedStateBackend<Integer> rocks = open(new EmbeddedRocksDBStateBackend(), List.of(fromPdpm));
        check(rocks);
        AbstractKeyedStateBackend<Integer> heap = open(new HashMapStateBackend(), List.of(savepoint(rocks, () -> { })));
        check(heap);
        AbstractKeyedStateBackend<Integer> back = open(new PdpmStateBackend(), List.of(savepoint(heap, () -> { })));
        check(back);
        assertThat(back.getKeys("value", VoidNamespace.INSTANCE).count()).isEqualTo(KEYS);
    }
}
