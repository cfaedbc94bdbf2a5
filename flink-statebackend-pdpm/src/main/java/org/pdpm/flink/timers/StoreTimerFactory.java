package org.pdpm.flink.timers;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyExtractorFunction;
import org.apache.flink.runtime.state.KeyGroupedInternalPriorityQueue;
import org.apache.flink.runtime.state.Keyed;
import org.apache.flink.runtime.state.PriorityComparable;
import org.apache.flink.runtime.state.PriorityComparator;
import org.apache.flink.runtime.state.PriorityQueueSetFactory;
import org.apache.flink.runtime.state.heap.HeapPriorityQueueElement;
import org.apache.flink.runtime.state.heap.KeyGroupPartitionedPriorityQueue;
import org.pdpm.flink.state.StateAccess;
import org.pdpm.flink.state.StateKeys;

/**
 * Timers in the store (the default timer service): one {@link StoreQueueSet} per key group under
 * Flink's key-group-partitioned queue, so that timers survive failover and a checkpoint copies none.
 */
public final class StoreTimerFactory implements PriorityQueueSetFactory {

    private final StateAccess<?> backend;
    private final Registry registry;
    private final DataOutputSerializer sharedOut = new DataOutputSerializer(64);

    /** Records a timer queue with the backend's states (checking a restored one's serializer). */
    public interface Registry {
        /** The queue's id in store keys. */
        int register(String name, TypeSerializer<?> elementSerializer, boolean allowFutureMetadataUpdates);
    }

    public StoreTimerFactory(StateAccess<?> backend, Registry registry) {
        this.backend = backend;
        this.registry = registry;
    }

    @Override
    public <T extends HeapPriorityQueueElement & PriorityComparable<? super T> & Keyed<?>>
            KeyGroupedInternalPriorityQueue<T> create(String stateName, TypeSerializer<T> byteOrderedElementSerializer) {
        return create(stateName, byteOrderedElementSerializer, false);
    }

    @Override
    public <T extends HeapPriorityQueueElement & PriorityComparable<? super T> & Keyed<?>>
            KeyGroupedInternalPriorityQueue<T> create(String stateName, TypeSerializer<T> byteOrderedElementSerializer,
                                                      boolean allowFutureMetadataUpdates) {
        int id = registry.register(stateName, byteOrderedElementSerializer, allowFutureMetadataUpdates);
        return new KeyGroupPartitionedPriorityQueue<T, StoreQueueSet<T>>(
                KeyExtractorFunction.forKeyedObjects(),
                PriorityComparator.forPriorityComparableObjects(),
                (keyGroup, numKeyGroups, keyExtractor, comparator) -> new StoreQueueSet<>(backend.store(keyGroup),
                        StateKeys.groupPrefix(backend.root(keyGroup), keyGroup, id),
                        byteOrderedElementSerializer.duplicate(), sharedOut),
                backend.getKeyGroupRange(),
                backend.numberOfKeyGroups());
    }
}
