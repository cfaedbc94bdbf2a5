package org.pdpm.flink.state;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.internal.InternalValueState;

/** Value state: one entry per (key, namespace) holding the serialized value. */
public final class PdpmValueState<K, N, V> extends AbstractPdpmState<K, N, V> implements InternalValueState<K, N, V> {

    public PdpmValueState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                          TypeSerializer<V> valueSerializer, V defaultValue) {
        super(backend, stateId, namespaceSerializer, valueSerializer, defaultValue);
    }

    @Override
    public V value() {
        byte[] bytes = backend.currentStore().get(currentKey());
        return bytes == null ? defaultValue() : deserialize(bytes, valueSerializer);
    }

    @Override
    public void update(V value) {
        if (value == null) {
            clear();
            return;
        }
        backend.currentStore().put(currentKey(), serialize(value, valueSerializer));
    }
}
