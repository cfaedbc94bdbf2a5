package org.pdpm.flink.state;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.queryablestate.client.state.serialization.KvStateSerializer;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateEntry;
import org.apache.flink.runtime.state.internal.InternalKvState;
import org.apache.flink.runtime.state.ttl.TtlAwareSerializer;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.util.StateMigrationException;
import org.apache.flink.util.FlinkRuntimeException;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;

/**
 * Keyed state kept serialized in the store, one entry per (key, namespace) — per map entry for map
 * state — in the value formats Flink's RocksDB backend uses, so that savepoints are canonical.
 */
public abstract class AbstractPdpmState<K, N, V> implements InternalKvState<K, N, V> {

    protected final StateAccess<K> backend;
    protected final int stateId;
    protected TypeSerializer<N> namespaceSerializer;
    protected TypeSerializer<V> valueSerializer;
    protected V defaultValue;
    protected N currentNamespace;

    protected final DataOutputSerializer out = new DataOutputSerializer(128);
    protected final DataInputDeserializer in = new DataInputDeserializer();

    protected AbstractPdpmState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                                TypeSerializer<V> valueSerializer, V defaultValue) {
        this.backend = backend;
        this.stateId = stateId;
        this.namespaceSerializer = namespaceSerializer;
        this.valueSerializer = valueSerializer;
        this.defaultValue = defaultValue;
    }

    /** Takes the serializers of a re-registration (after a restore or a compatible upgrade). */
    public void update(TypeSerializer<N> namespaceSerializer, TypeSerializer<V> valueSerializer, V defaultValue) {
        this.namespaceSerializer = namespaceSerializer;
        this.valueSerializer = valueSerializer;
        this.defaultValue = defaultValue;
    }

    public int stateId() {
        return stateId;
    }

    @Override
    public TypeSerializer<K> getKeySerializer() {
        return backend.keySerializer();
    }

    @Override
    public TypeSerializer<N> getNamespaceSerializer() {
        return namespaceSerializer;
    }

    @Override
    public TypeSerializer<V> getValueSerializer() {
        return valueSerializer;
    }

    @Override
    public void setCurrentNamespace(N namespace) {
        this.currentNamespace = namespace;
    }

    @Override
    public void clear() {
        backend.currentStore().delete(currentKey());
    }

    protected byte[] currentKey() {
        return backend.keys().key(stateId, currentNamespace, namespaceSerializer);
    }

    protected byte[] keyOf(N namespace) {
        return backend.keys().key(stateId, namespace, namespaceSerializer);
    }

    protected V defaultValue() {
        return defaultValue == null ? null : valueSerializer.copy(defaultValue);
    }

    protected <T> byte[] serialize(T value, TypeSerializer<T> serializer) {
        try {
            out.clear();
            serializer.serialize(value, out);
            return out.getCopyOfBuffer();
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot serialize state value of " + getClass().getSimpleName(), e);
        }
    }

    protected <T> T deserialize(byte[] bytes, TypeSerializer<T> serializer) {
        try {
            in.setBuffer(bytes);
            return serializer.deserialize(in);
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot deserialize state value of " + getClass().getSimpleName(), e);
        }
    }

    /**
     * The stored bytes for a serialized (key, namespace), as queryable state asks; the value formats
     * are Flink's (map state overrides this to serialize its entries).
     */
    @Override
    public byte[] getSerializedValue(byte[] serializedKeyAndNamespace, TypeSerializer<K> safeKeySerializer,
                                     TypeSerializer<N> safeNamespaceSerializer, TypeSerializer<V> safeValueSerializer)
            throws Exception {
        Tuple2<K, N> keyAndNamespace = KvStateSerializer.deserializeKeyAndNamespace(
                serializedKeyAndNamespace, safeKeySerializer, safeNamespaceSerializer);
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(keyAndNamespace.f0, backend.numberOfKeyGroups());
        StateKeys.Builder<K> keys = new StateKeys.Builder<>(safeKeySerializer);
        keys.setKey(keyAndNamespace.f0, keyGroup, backend.root(keyGroup));
        byte[] key = keys.key(stateId, keyAndNamespace.f1, safeNamespaceSerializer);
        return serializedValueAt(backend.store(keyGroup), key, safeValueSerializer);
    }

    protected byte[] serializedValueAt(KvStore store, byte[] key, TypeSerializer<V> safeValueSerializer)
            throws Exception {
        return store.get(key);
    }

    /**
     * Re-encodes one stored value from the prior serializer's format to the new one's (state
     * migration, TTL switched on or off included). Both serializers come wrapped as Flink's
     * {@link TtlAwareSerializer}s; list and map state encode elements and entries, so they override it.
     */
    public byte[] migrateValue(byte[] stored, TypeSerializer<V> prior, TypeSerializer<V> next, TtlTimeProvider ttl)
            throws StateMigrationException {
        in.setBuffer(stored);
        out.clear();
        migrateOne(ttlAware(prior), ttlAware(next), ttl);
        return out.getCopyOfBuffer();
    }

    /** Migrates the one value at {@link #in}'s position onto {@link #out}. */
    protected final <T> void migrateOne(TtlAwareSerializer<T, ?> prior, TtlAwareSerializer<T, ?> next, TtlTimeProvider ttl)
            throws StateMigrationException {
        try {
            next.migrateValueFromPriorSerializer(prior, () -> prior.deserialize(in), out, ttl);
        } catch (Exception e) {
            throw new StateMigrationException("cannot migrate a value of state " + stateId + " from " + prior
                    + " to " + next, e);
        }
    }

    @SuppressWarnings("unchecked")
    protected static <T> TtlAwareSerializer<T, ?> ttlAware(TypeSerializer<T> serializer) {
        return (TtlAwareSerializer<T, ?>) TtlAwareSerializer.wrapTtlAwareSerializer(serializer);
    }

    /**
     * Visits this state's entries in the store a few key groups' worth at a time (for TTL's
     * incremental clean-up); entries changed since they were read are written back as seen.
     */
    @Override
    public StateIncrementalVisitor<K, N, V> getStateIncrementalVisitor(int recommendedMaxNumberOfReturnedRecords) {
        return new StoreVisitor(recommendedMaxNumberOfReturnedRecords);
    }

    /** Reads a stored value of this state (as Flink's internal value type) for the visitor. */
    protected V readStored(byte[] storeKey, byte[] value) {
        return deserialize(value, valueSerializer);
    }

    /** Encodes a value of this state as it is stored (the visitor writes back with it). */
    protected byte[] encodeStored(V value) {
        return serialize(value, valueSerializer);
    }

    private final class StoreVisitor implements StateIncrementalVisitor<K, N, V> {
        private final int batch;
        private final List<Integer> groups = new ArrayList<>();
        private int nextGroup;
        private final List<StateEntry<K, N, V>> pending = new ArrayList<>();
        private final StateKeys.Reader<K, N> reader;

        StoreVisitor(int batch) {
            this.batch = Math.max(1, batch);
            backend.getKeyGroupRange().forEach(groups::add);
            this.reader = new StateKeys.Reader<>(backend.keySerializer(), namespaceSerializer);
        }

        @Override
        public boolean hasNext() {
            fill();
            return !pending.isEmpty();
        }

        @Override
        public Collection<StateEntry<K, N, V>> nextEntries() {
            fill();
            List<StateEntry<K, N, V>> out = new ArrayList<>(pending);
            pending.clear();
            return out;
        }

        private void fill() {
            while (pending.isEmpty() && nextGroup < groups.size()) {
                int group = groups.get(nextGroup++);
                KvStore store = backend.store(group);
                try (KvCursor c = store.scan(StateKeys.groupPrefix(backend.root(group), group, stateId))) {
                    while (c.hasNext()) {
                        KvEntry e = c.next();
                        reader.of(e.key());
                        pending.add(new Entry(e.key(), reader.key(), reader.namespace(), readStored(e.key(), e.value()),
                                store));
                    }
                } catch (IOException e) {
                    throw new FlinkRuntimeException("cannot read keys of state " + stateId, e);
                }
                if (pending.size() >= batch) {
                    return;
                }
            }
        }

        @Override
        public void remove(StateEntry<K, N, V> stateEntry) {
            Entry e = (Entry) stateEntry;
            e.store.delete(e.storeKey);
        }

        @Override
        public void update(StateEntry<K, N, V> stateEntry, V newValue) {
            Entry e = (Entry) stateEntry;
            if (newValue == null) {
                e.store.delete(e.storeKey);
            } else {
                e.store.put(e.storeKey, encodeStored(newValue));
            }
        }
    }

    private final class Entry extends StateEntry.SimpleStateEntry<K, N, V> {
        final byte[] storeKey;
        final KvStore store;

        Entry(byte[] storeKey, K key, N namespace, V value, KvStore store) {
            super(key, namespace, value);
            this.storeKey = storeKey;
            this.store = store;
        }
    }
}
