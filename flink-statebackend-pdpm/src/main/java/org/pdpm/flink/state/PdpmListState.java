package org.pdpm.flink.state;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.runtime.state.ListDelimitedSerializer;
import org.apache.flink.runtime.state.internal.InternalListState;
import org.apache.flink.runtime.state.ttl.TtlAwareSerializer;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.util.StateMigrationException;
import org.apache.flink.util.FlinkRuntimeException;
import org.apache.flink.util.Preconditions;
import org.pdpm.core.api.KvStore;

/**
 * List state: one entry per (key, namespace) holding the elements in Flink's delimited list format
 * (as RocksDB keeps them), so that an add appends bytes without deserializing the list.
 */
public final class PdpmListState<K, N, V> extends AbstractPdpmState<K, N, List<V>>
        implements InternalListState<K, N, V> {

    private static final byte DELIMITER = ',';
    private final ListDelimitedSerializer lists = new ListDelimitedSerializer();

    public PdpmListState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                         TypeSerializer<List<V>> valueSerializer) {
        super(backend, stateId, namespaceSerializer, valueSerializer, null);
    }

    private TypeSerializer<V> elementSerializer() {
        return ((ListSerializer<V>) valueSerializer).getElementSerializer();
    }

    @Override
    public Iterable<V> get() {
        return getInternal();
    }

    @Override
    public List<V> getInternal() {
        byte[] bytes = backend.currentStore().get(currentKey());
        return bytes == null ? null : decode(bytes, elementSerializer());
    }

    private List<V> decode(byte[] bytes, TypeSerializer<V> elements) {
        try {
            return lists.deserializeList(bytes, elements);
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot deserialize list state " + stateId, e);
        }
    }

    private byte[] encode(List<V> values, TypeSerializer<V> elements) {
        try {
            return lists.serializeList(values, elements);
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot serialize list state " + stateId, e);
        }
    }

    @Override
    public void add(V value) {
        Preconditions.checkNotNull(value, "You cannot add null to a ListState.");
        append(currentKey(), serialize(value, elementSerializer()));
    }

    private void append(byte[] key, byte[] elements) {
        KvStore store = backend.currentStore();
        byte[] old = store.get(key);
        if (old == null || old.length == 0) {
            store.put(key, elements);
            return;
        }
        byte[] joined = new byte[old.length + 1 + elements.length];
        System.arraycopy(old, 0, joined, 0, old.length);
        joined[old.length] = DELIMITER;
        System.arraycopy(elements, 0, joined, old.length + 1, elements.length);
        store.put(key, joined);
    }

    @Override
    public void update(List<V> values) {
        updateInternal(values);
    }

    @Override
    public void updateInternal(List<V> values) {
        Preconditions.checkNotNull(values, "List of values to add cannot be null.");
        if (values.isEmpty()) {
            clear();
            return;
        }
        for (V v : values) {
            Preconditions.checkNotNull(v, "You cannot add null to a ListState.");
        }
        backend.currentStore().put(currentKey(), encode(values, elementSerializer()));
    }

    @Override
    public void addAll(List<V> values) {
        Preconditions.checkNotNull(values, "List of values to add cannot be null.");
        if (values.isEmpty()) {
            return;
        }
        for (V v : values) {
            Preconditions.checkNotNull(v, "You cannot add null to a ListState.");
        }
        append(currentKey(), encode(values, elementSerializer()));
    }

    @Override
    public void mergeNamespaces(N target, Collection<N> sources) {
        if (sources == null || sources.isEmpty()) {
            return;
        }
        KvStore store = backend.currentStore();
        List<byte[]> merged = new ArrayList<>();
        for (N source : sources) {
            byte[] key = keyOf(source);
            byte[] bytes = store.get(key);
            if (bytes != null) {
                store.delete(key);
                if (bytes.length > 0) {
                    merged.add(bytes);
                }
            }
        }
        if (merged.isEmpty()) {
            return;
        }
        int total = merged.size() - 1;
        for (byte[] b : merged) {
            total += b.length;
        }
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] b : merged) {
            if (at > 0) {
                all[at++] = DELIMITER;
            }
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        append(keyOf(target), all);
    }

    @Override
    public byte[] migrateValue(byte[] stored, TypeSerializer<List<V>> prior, TypeSerializer<List<V>> next,
                               TtlTimeProvider ttl) throws StateMigrationException {
        TtlAwareSerializer<V, ?> priorElements = ttlAware(((ListSerializer<V>) prior).getElementSerializer());
        TtlAwareSerializer<V, ?> nextElements = ttlAware(((ListSerializer<V>) next).getElementSerializer());
        in.setBuffer(stored);
        out.clear();
        try {
            while (in.available() > 0) {
                migrateOne(priorElements, nextElements, ttl);
                if (in.available() > 0) {
                    in.readByte();
                    out.write(DELIMITER);
                }
            }
        } catch (IOException e) {
            throw new StateMigrationException("cannot migrate list state " + stateId, e);
        }
        return out.getCopyOfBuffer();
    }

    @Override
    protected List<V> readStored(byte[] storeKey, byte[] value) {
        return decode(value, elementSerializer());
    }

    @Override
    protected byte[] encodeStored(List<V> value) {
        return encode(value, elementSerializer());
    }
}
