package org.pdpm.flink.state;

import java.io.IOException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.MapSerializer;
import org.apache.flink.queryablestate.client.state.serialization.KvStateSerializer;
import org.apache.flink.runtime.state.StateEntry;
import org.apache.flink.runtime.state.internal.InternalMapState;
import org.apache.flink.runtime.state.ttl.TtlAwareSerializer;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.util.StateMigrationException;
import org.apache.flink.util.FlinkRuntimeException;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;

/**
 * Map state: one store entry per map entry, keyed by (key, namespace, user key) and holding
 * {@code [null flag][value]} as RocksDB does; iteration is a prefix scan of (key, namespace), so it
 * costs the map's size, never the store's.
 */
public final class PdpmMapState<K, N, UK, UV> extends AbstractPdpmState<K, N, Map<UK, UV>>
        implements InternalMapState<K, N, UK, UV> {

    public PdpmMapState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                        TypeSerializer<Map<UK, UV>> valueSerializer) {
        super(backend, stateId, namespaceSerializer, valueSerializer, null);
    }

    private TypeSerializer<UK> userKeySerializer() {
        return ((MapSerializer<UK, UV>) valueSerializer).getKeySerializer();
    }

    private TypeSerializer<UV> userValueSerializer() {
        return ((MapSerializer<UK, UV>) valueSerializer).getValueSerializer();
    }

    private byte[] entryKey(UK userKey) {
        return backend.keys().userKey(stateId, currentNamespace, namespaceSerializer, userKey, userKeySerializer());
    }

    private byte[] encodeValue(UV value, TypeSerializer<UV> serializer) {
        try {
            out.clear();
            out.writeBoolean(value == null);
            if (value != null) {
                serializer.serialize(value, out);
            }
            return out.getCopyOfBuffer();
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot serialize map value of state " + stateId, e);
        }
    }

    private UV decodeValue(byte[] bytes, TypeSerializer<UV> serializer) {
        try {
            in.setBuffer(bytes);
            return in.readBoolean() ? null : serializer.deserialize(in);
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot deserialize map value of state " + stateId, e);
        }
    }

    private UK decodeUserKey(byte[] storeKey, int prefixLength) {
        try {
            in.setBuffer(storeKey, prefixLength, storeKey.length - prefixLength);
            return userKeySerializer().deserialize(in);
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot deserialize map key of state " + stateId, e);
        }
    }

    @Override
    public UV get(UK key) {
        byte[] bytes = backend.currentStore().get(entryKey(key));
        return bytes == null ? null : decodeValue(bytes, userValueSerializer());
    }

    @Override
    public void put(UK key, UV value) {
        backend.currentStore().put(entryKey(key), encodeValue(value, userValueSerializer()));
    }

    @Override
    public void putAll(Map<UK, UV> map) {
        if (map == null) {
            return;
        }
        for (Map.Entry<UK, UV> e : map.entrySet()) {
            put(e.getKey(), e.getValue());
        }
    }

    @Override
    public void remove(UK key) {
        backend.currentStore().delete(entryKey(key));
    }

    @Override
    public boolean contains(UK key) {
        return backend.currentStore().get(entryKey(key)) != null;
    }

    @Override
    public boolean isEmpty() {
        try (KvCursor c = backend.currentStore().scan(currentKey())) {
            return !c.hasNext();
        }
    }

    @Override
    public void clear() {
        KvStore store = backend.currentStore();
        try (KvCursor c = store.scan(currentKey())) {
            List<byte[]> keys = new ArrayList<>();
            while (c.hasNext()) {
                keys.add(c.next().key());
            }
            keys.forEach(store::delete);
        }
    }

    @Override
    public Iterable<Map.Entry<UK, UV>> entries() {
        return this::iterator;
    }

    @Override
    public Iterable<UK> keys() {
        return () -> mapped(iterator(), true);
    }

    @Override
    public Iterable<UV> values() {
        return () -> mapped(iterator(), false);
    }

    @SuppressWarnings("unchecked")
    private static <T, UK, UV> Iterator<T> mapped(Iterator<Map.Entry<UK, UV>> entries, boolean keys) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return entries.hasNext();
            }

            @Override
            public T next() {
                Map.Entry<UK, UV> e = entries.next();
                return (T) (keys ? e.getKey() : e.getValue());
            }

            @Override
            public void remove() {
                entries.remove();
            }
        };
    }

    /**
     * The current (key, namespace)'s entries as of now; removals and {@code setValue} go to the
     * store. The entries are read up front, so that writes while iterating cannot confuse it.
     */
    @Override
    public Iterator<Map.Entry<UK, UV>> iterator() {
        KvStore store = backend.currentStore();
        byte[] prefix = currentKey();
        List<KvEntry> read = new ArrayList<>();
        try (KvCursor c = store.scan(prefix)) {
            while (c.hasNext()) {
                read.add(c.next());
            }
        }
        TypeSerializer<UV> values = userValueSerializer();
        return new Iterator<>() {
            private int next;
            private StoredEntry last;

            @Override
            public boolean hasNext() {
                return next < read.size();
            }

            @Override
            public Map.Entry<UK, UV> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                KvEntry e = read.get(next++);
                last = new StoredEntry(store, e.key(), decodeUserKey(e.key(), prefix.length),
                        decodeValue(e.value(), values));
                return last;
            }

            @Override
            public void remove() {
                if (last == null) {
                    throw new IllegalStateException("next() has not been called, or remove() was called already");
                }
                last.removed = true;
                store.delete(last.storeKey);
                last = null;
            }
        };
    }

    private final class StoredEntry extends AbstractMap.SimpleEntry<UK, UV> {
        final KvStore store;
        final byte[] storeKey;
        boolean removed;

        StoredEntry(KvStore store, byte[] storeKey, UK key, UV value) {
            super(key, value);
            this.store = store;
            this.storeKey = storeKey;
        }

        @Override
        public UV setValue(UV value) {
            if (removed) {
                throw new IllegalStateException("the entry was removed");
            }
            UV old = super.setValue(value);
            store.put(storeKey, encodeValue(value, userValueSerializer()));
            return old;
        }
    }

    @Override
    protected byte[] serializedValueAt(KvStore store, byte[] key, TypeSerializer<Map<UK, UV>> safeValueSerializer)
            throws Exception {
        MapSerializer<UK, UV> serializer = (MapSerializer<UK, UV>) safeValueSerializer;
        Map<UK, UV> map = new LinkedHashMap<>();
        try (KvCursor c = store.scan(key)) {
            while (c.hasNext()) {
                KvEntry e = c.next();
                in.setBuffer(e.key(), key.length, e.key().length - key.length);
                UK uk = serializer.getKeySerializer().deserialize(in);
                map.put(uk, decodeValue(e.value(), serializer.getValueSerializer()));
            }
        }
        return map.isEmpty() ? null : KvStateSerializer.serializeMap(map.entrySet(), serializer.getKeySerializer(),
                serializer.getValueSerializer());
    }

    /** Map entries are stored one by one: migration re-encodes one entry's value. */
    @Override
    public byte[] migrateValue(byte[] stored, TypeSerializer<Map<UK, UV>> prior, TypeSerializer<Map<UK, UV>> next,
                               TtlTimeProvider ttl) throws StateMigrationException {
        TtlAwareSerializer<UV, ?> priorValues = ttlAware(((MapSerializer<UK, UV>) prior).getValueSerializer());
        TtlAwareSerializer<UV, ?> nextValues = ttlAware(((MapSerializer<UK, UV>) next).getValueSerializer());
        in.setBuffer(stored);
        out.clear();
        try {
            boolean isNull = in.readBoolean();
            out.writeBoolean(isNull);
            if (!isNull) {
                migrateOne(priorValues, nextValues, ttl);
            }
        } catch (IOException e) {
            throw new StateMigrationException("cannot migrate map state " + stateId, e);
        }
        return out.getCopyOfBuffer();
    }

    /**
     * Visits whole maps — the entries of one (key, namespace), which lie next to each other in key
     * order — so that TTL's clean-up sees what it sees on the heap backend.
     */
    @Override
    public StateIncrementalVisitor<K, N, Map<UK, UV>> getStateIncrementalVisitor(int recommendedMaxNumberOfReturnedRecords) {
        return new MapVisitor(Math.max(1, recommendedMaxNumberOfReturnedRecords));
    }

    private final class MapVisitor implements StateIncrementalVisitor<K, N, Map<UK, UV>> {
        private final int batch;
        private final List<Integer> groups = new ArrayList<>();
        private int nextGroup;
        private final List<StateEntry<K, N, Map<UK, UV>>> pending = new ArrayList<>();
        private final StateKeys.Reader<K, N> reader;

        MapVisitor(int batch) {
            this.batch = batch;
            backend.getKeyGroupRange().forEach(groups::add);
            this.reader = new StateKeys.Reader<>(backend.keySerializer(), namespaceSerializer);
        }

        @Override
        public boolean hasNext() {
            fill();
            return !pending.isEmpty();
        }

        @Override
        public Collection<StateEntry<K, N, Map<UK, UV>>> nextEntries() {
            fill();
            List<StateEntry<K, N, Map<UK, UV>>> out = new ArrayList<>(pending);
            pending.clear();
            return out;
        }

        private void fill() {
            while (pending.size() < batch && nextGroup < groups.size()) {
                int group = groups.get(nextGroup++);
                KvStore store = backend.store(group);
                MapEntry current = null;
                try (KvCursor c = store.scan(StateKeys.groupPrefix(backend.root(group), group, stateId))) {
                    while (c.hasNext()) {
                        KvEntry e = c.next();
                        if (current == null || !current.owns(e.key())) {
                            reader.of(e.key());
                            K key = reader.key();
                            N namespace = reader.namespace();
                            int prefixLength = reader.input().getPosition();
                            current = new MapEntry(store, Arrays.copyOf(e.key(), prefixLength), key, namespace);
                            pending.add(current);
                        }
                        current.storeKeys.add(e.key());
                        current.getState().put(decodeUserKey(e.key(), current.prefix.length),
                                decodeValue(e.value(), userValueSerializer()));
                    }
                } catch (IOException e) {
                    throw new FlinkRuntimeException("cannot read keys of map state " + stateId, e);
                }
            }
        }

        @Override
        public void remove(StateEntry<K, N, Map<UK, UV>> stateEntry) {
            MapEntry e = (MapEntry) stateEntry;
            e.storeKeys.forEach(e.store::delete);
        }

        @Override
        public void update(StateEntry<K, N, Map<UK, UV>> stateEntry, Map<UK, UV> newValue) {
            MapEntry e = (MapEntry) stateEntry;
            if (newValue == null || newValue.isEmpty()) {
                remove(stateEntry);
                return;
            }
            for (byte[] k : e.storeKeys) {
                UK uk = decodeUserKey(k, e.prefix.length);
                if (!newValue.containsKey(uk)) {
                    e.store.delete(k);
                }
            }
            for (Map.Entry<UK, UV> entry : newValue.entrySet()) {
                byte[] k;
                try {
                    out.clear();
                    out.write(e.prefix);
                    userKeySerializer().serialize(entry.getKey(), out);
                    k = out.getCopyOfBuffer();
                } catch (IOException ex) {
                    throw new FlinkRuntimeException("cannot serialize map key of state " + stateId, ex);
                }
                e.store.put(k, encodeValue(entry.getValue(), userValueSerializer()));
            }
        }
    }

    private final class MapEntry extends StateEntry.SimpleStateEntry<K, N, Map<UK, UV>> {
        final KvStore store;
        final byte[] prefix;
        final List<byte[]> storeKeys = new ArrayList<>();

        MapEntry(KvStore store, byte[] prefix, K key, N namespace) {
            super(key, namespace, new LinkedHashMap<>());
            this.store = store;
            this.prefix = prefix;
        }

        boolean owns(byte[] storeKey) {
            return storeKey.length >= prefix.length && Arrays.equals(storeKey, 0, prefix.length, prefix, 0, prefix.length);
        }
    }
}
