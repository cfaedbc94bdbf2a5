package org.pdpm.flink.timers;

import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyExtractorFunction;
import org.apache.flink.runtime.state.KeyGroupedInternalPriorityQueue;
import org.apache.flink.runtime.state.Keyed;
import org.apache.flink.runtime.state.PriorityComparable;
import org.apache.flink.runtime.state.PriorityComparator;
import org.apache.flink.runtime.state.PriorityQueueSetFactory;
import org.apache.flink.runtime.state.RegisteredPriorityQueueStateBackendMetaInfo;
import org.apache.flink.runtime.state.RegisteredStateMetaInfoBase;
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
    private final Consumer<RegisteredStateMetaInfoBase> register;
    private final ToIntFunction<String> stateId;
    private final DataOutputSerializer sharedOut = new DataOutputSerializer(64);

    /**
     * @param register records the queue's meta data with the backend's states
     * @param stateId  the id the backend gave the queue's name
     */
    public StoreTimerFactory(StateAccess<?> backend, Consumer<RegisteredStateMetaInfoBase> register,
                             ToIntFunction<String> stateId) {
        this.backend = backend;
        this.register = register;
        this.stateId = stateId;
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
        RegisteredPriorityQueueStateBackendMetaInfo<T> meta =
                new RegisteredPriorityQueueStateBackendMetaInfo<>(stateName, byteOrderedElementSerializer);
        register.accept(allowFutureMetadataUpdates ? meta.withSerializerUpgradesAllowed() : meta);
        int id = stateId.applyAsInt(stateName);
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
