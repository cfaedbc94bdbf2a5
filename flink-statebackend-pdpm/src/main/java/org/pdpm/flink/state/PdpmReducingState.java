package org.pdpm.flink.state;

import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.internal.InternalReducingState;

/** Reducing state: the reduced value per (key, namespace). */
public final class PdpmReducingState<K, N, V> extends MergingPdpmState<K, N, V>
        implements InternalReducingState<K, N, V> {

    private ReduceFunction<V> reduce;

    public PdpmReducingState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                             TypeSerializer<V> valueSerializer, ReduceFunction<V> reduce) {
        super(backend, stateId, namespaceSerializer, valueSerializer);
        this.reduce = reduce;
    }

    public void setReduceFunction(ReduceFunction<V> reduce) {
        this.reduce = reduce;
    }

    @Override
    protected V merge(V a, V b) throws Exception {
        return reduce.reduce(a, b);
    }

    @Override
    public V get() {
        return getInternal();
    }

    @Override
    public void add(V value) throws Exception {
        V old = getInternal();
        updateInternal(old == null ? value : reduce.reduce(old, value));
    }
}
