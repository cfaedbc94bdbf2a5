package org.pdpm.flink.timers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.InternalPriorityQueue;
import org.apache.flink.runtime.state.heap.AbstractHeapPriorityQueueElement;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.FlinkRuntimeException;
import org.pdpm.core.api.KeyOrder;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;

/**
 * The timers of one key group, kept in the store as keys {@code [root][key group][state][element]}
 * with empty values. Timer serializers are byte-ordered, so the store's key order is the queue's
 * order. The set is read from the store on first use and then mirrored in memory, write-through,
 * so peeking costs nothing and every change is one store write.
 */
final class StoreQueueSet<T> extends AbstractHeapPriorityQueueElement implements InternalPriorityQueue<T> {

    private static final byte[] EMPTY = new byte[0];

    private final KvStore store;
    private final byte[] prefix;
    private final TypeSerializer<T> serializer;
    private final DataOutputSerializer out;
    private final DataInputDeserializer in = new DataInputDeserializer();
    /** The elements by their serialized form; null until first read from the store. */
    private TreeMap<byte[], T> elements;

    StoreQueueSet(KvStore store, byte[] prefix, TypeSerializer<T> serializer, DataOutputSerializer sharedOut) {
        this.store = store;
        this.prefix = prefix;
        this.serializer = serializer;
        this.out = sharedOut;
    }

    private TreeMap<byte[], T> elements() {
        if (elements == null) {
            TreeMap<byte[], T> read = new TreeMap<>(KeyOrder.UNSIGNED);
            try (KvCursor c = store.scan(prefix)) {
                while (c.hasNext()) {
                    KvEntry e = c.next();
                    in.setBuffer(e.key(), prefix.length, e.key().length - prefix.length);
                    read.put(e.key(), serializer.deserialize(in));
                }
            } catch (IOException e) {
                throw new FlinkRuntimeException("cannot read timers under " + prefix.length + "-byte prefix", e);
            }
            elements = read;
        }
        return elements;
    }

    private byte[] keyOf(T element) {
        try {
            out.clear();
            out.write(prefix);
            serializer.serialize(element, out);
            return out.getCopyOfBuffer();
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot serialize timer " + element, e);
        }
    }

    @Override
    public T poll() {
        Map.Entry<byte[], T> first = elements().pollFirstEntry();
        if (first == null) {
            return null;
        }
        store.delete(first.getKey());
        return first.getValue();
    }

    @Override
    public T peek() {
        Map.Entry<byte[], T> first = elements().firstEntry();
        return first == null ? null : first.getValue();
    }

    /** True when {@code element} is new and now heads the set. */
    @Override
    public boolean add(T element) {
        byte[] key = keyOf(element);
        TreeMap<byte[], T> set = elements();
        if (set.containsKey(key)) {
            return false;
        }
        store.put(key, EMPTY);
        set.put(key, element);
        return set.firstKey() == key;
    }

    /** True when {@code element} was the head (so the head changed). */
    @Override
    public boolean remove(T element) {
        byte[] key = keyOf(element);
        TreeMap<byte[], T> set = elements();
        if (set.isEmpty()) {
            return false;
        }
        boolean wasHead = Arrays.compareUnsigned(set.firstKey(), key) == 0;
        if (set.remove(key) != null) {
            store.delete(key);
        }
        return wasHead;
    }

    @Override
    public boolean isEmpty() {
        return elements().isEmpty();
    }

    @Override
    public int size() {
        return elements().size();
    }

    @Override
    public void addAll(Collection<? extends T> toAdd) {
        if (toAdd != null) {
            toAdd.forEach(this::add);
        }
    }

    @Override
    public CloseableIterator<T> iterator() {
        Iterator<T> copy = new ArrayList<>(elements().values()).iterator();
        return CloseableIterator.adapterForIterator(copy);
    }
}
