package org.pdpm.flink.backend;

import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.core.fs.CloseableRegistry;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyedStateBackendParametersImpl;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.SnapshotResult;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.pdpm.flink.PdpmStateBackend;

/** Opens pdpm keyed backends over integer keys with one value state "v", as a task would. */
final class BackendHarness implements AutoCloseable {

    static final int KEY_GROUPS = 10;
    static final ValueStateDescriptor<String> V = new ValueStateDescriptor<>("v", String.class);

    private final MockEnvironment env = MockEnvironment.builder().build();
    private final PdpmStateBackend backend;

    BackendHarness() {
        this(new PdpmStateBackend());
    }

    BackendHarness(PdpmStateBackend backend) {
        this.backend = backend;
    }

    AbstractKeyedStateBackend<Integer> open(JobID job, KeyGroupRange range, Collection<KeyedStateHandle> handles)
            throws Exception {
        return open(job, range, handles, TtlTimeProvider.DEFAULT);
    }

    AbstractKeyedStateBackend<Integer> open(JobID job, KeyGroupRange range, Collection<KeyedStateHandle> handles,
                                            TtlTimeProvider time) throws Exception {
        return open(job, range, handles, time, new UnregisteredMetricsGroup());
    }

    AbstractKeyedStateBackend<Integer> open(JobID job, KeyGroupRange range, Collection<KeyedStateHandle> handles,
                                            TtlTimeProvider time, MetricGroup metrics) throws Exception {
        return backend.createKeyedStateBackend(new KeyedStateBackendParametersImpl<>(env, job, "op",
                IntSerializer.INSTANCE, KEY_GROUPS, range, env.getTaskKvStateRegistry(), time, metrics, handles,
                new CloseableRegistry()));
    }

    AbstractKeyedStateBackend<Integer> open(JobID job, KeyedStateHandle handle) throws Exception {
        return open(job, new KeyGroupRange(0, KEY_GROUPS - 1), List.of(handle));
    }

    static ValueState<String> value(AbstractKeyedStateBackend<Integer> b) throws Exception {
        return b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, V);
    }

    static void put(AbstractKeyedStateBackend<Integer> b, int key, String v) throws Exception {
        b.setCurrentKey(key);
        value(b).update(v);
    }

    static String get(AbstractKeyedStateBackend<Integer> b, int key) throws Exception {
        b.setCurrentKey(key);
        return value(b).value();
    }

    static KeyedStateHandle checkpoint(AbstractKeyedStateBackend<Integer> b, long id) throws Exception {
        SnapshotResult<KeyedStateHandle> r = b.snapshot(id, id, null,
                CheckpointOptions.forCheckpointWithDefaultLocation()).get();
        return r.getJobManagerOwnedSnapshot();
    }

    @Override
    public void close() throws Exception {
        env.close();
    }
}
