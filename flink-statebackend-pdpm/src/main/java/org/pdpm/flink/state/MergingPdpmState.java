package org.pdpm.flink.state;

import java.util.Collection;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.pdpm.core.api.KvStore;

/**
 * Reducing and aggregating state: one entry per (key, namespace) holding the accumulator; an add
 * reads, folds and writes it back; merging folds the sources' accumulators into the target's.
 */
abstract class MergingPdpmState<K, N, ACC> extends AbstractPdpmState<K, N, ACC> {

    MergingPdpmState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                     TypeSerializer<ACC> valueSerializer) {
        super(backend, stateId, namespaceSerializer, valueSerializer, null);
    }

    /** Folds two accumulators into one. */
    protected abstract ACC merge(ACC a, ACC b) throws Exception;

    public ACC getInternal() {
        byte[] bytes = backend.currentStore().get(currentKey());
        return bytes == null ? null : deserialize(bytes, valueSerializer);
    }

    public void updateInternal(ACC value) {
        if (value == null) {
            clear();
        } else {
            backend.currentStore().put(currentKey(), serialize(value, valueSerializer));
        }
    }

    public void mergeNamespaces(N target, Collection<N> sources) throws Exception {
        if (sources == null || sources.isEmpty()) {
            return;
        }
        KvStore store = backend.currentStore();
        ACC merged = null;
        for (N source : sources) {
            byte[] key = keyOf(source);
            byte[] bytes = store.get(key);
            if (bytes != null) {
                store.delete(key);
                ACC acc = deserialize(bytes, valueSerializer);
                merged = merged == null ? acc : merge(merged, acc);
            }
        }
        if (merged == null) {
            return;
        }
        byte[] targetKey = keyOf(target);
        byte[] existing = store.get(targetKey);
        if (existing != null) {
            merged = merge(merged, deserialize(existing, valueSerializer));
        }
        store.put(targetKey, serialize(merged, valueSerializer));
    }
}
