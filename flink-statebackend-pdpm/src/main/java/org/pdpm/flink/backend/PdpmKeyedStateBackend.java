package org.pdpm.flink.backend;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.RunnableFuture;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.State;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.MapSerializer;
import org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.fs.CloseableRegistry;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.SnapshotType;
import org.apache.flink.runtime.query.TaskKvStateRegistry;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.DoneFuture;
import org.apache.flink.runtime.state.IncrementalKeyedStateHandle.HandleAndLocalPath;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupedInternalPriorityQueue;
import org.apache.flink.runtime.state.Keyed;
import org.apache.flink.runtime.state.KeyedBackendSerializationProxy;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.PriorityComparable;
import org.apache.flink.runtime.state.PriorityQueueSetFactory;
import org.apache.flink.runtime.state.RegisteredKeyValueStateBackendMetaInfo;
import org.apache.flink.runtime.state.RegisteredPriorityQueueStateBackendMetaInfo;
import org.apache.flink.runtime.state.SavepointResources;
import org.apache.flink.runtime.state.SnapshotExecutionType;
import org.apache.flink.runtime.state.SnapshotResult;
import org.apache.flink.runtime.state.StateSnapshotTransformer.StateSnapshotTransformFactory;
import org.apache.flink.runtime.state.filesystem.FileStateHandle;
import org.apache.flink.runtime.state.heap.HeapPriorityQueueElement;
import org.apache.flink.runtime.state.heap.HeapPriorityQueueSetFactory;
import org.apache.flink.runtime.state.InternalKeyContext;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.apache.flink.runtime.state.metrics.LatencyTrackingStateConfig;
import org.apache.flink.runtime.state.metrics.SizeTrackingStateConfig;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.util.FlinkRuntimeException;
import org.apache.flink.util.StateMigrationException;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;
import org.pdpm.flink.pool.StatePool;
import org.pdpm.flink.snapshot.CheckpointMeta;
import org.pdpm.flink.snapshot.CheckpointMeta.PinnedRange;
import org.pdpm.flink.snapshot.StoreSavepointResources;
import org.pdpm.flink.state.AbstractPdpmState;
import org.pdpm.flink.state.PdpmAggregatingState;
import org.pdpm.flink.state.PdpmListState;
import org.pdpm.flink.state.PdpmMapState;
import org.pdpm.flink.state.PdpmReducingState;
import org.pdpm.flink.state.PdpmValueState;
import org.pdpm.flink.state.StateAccess;
import org.pdpm.flink.state.StateKeys;
import org.pdpm.flink.timers.StoreTimerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A keyed state backend whose state lives in a pDPM pool: nothing on local disk, nothing kept in
 * memory that the store does not hold. A checkpoint pins an epoch of each of its lineages and
 * advances them (a few hundred bytes of handle, whatever the state's size); a restore forks new
 * lineages there (see {@link PdpmKeyedStateBackendBuilder}).
 */
public final class PdpmKeyedStateBackend<K> extends AbstractKeyedStateBackend<K> implements StateAccess<K> {

    private static final Logger LOG = LoggerFactory.getLogger(PdpmKeyedStateBackend.class);
    static final String BACKEND_TYPE = "pdpm";

    private final StatePool pool;
    private final KeyGroupLineages lineages;
    private final RegisteredStates states;
    private final StateKeys.Builder<K> keys;
    private final PriorityQueueSetFactory timers;
    private final boolean heapTimers;
    private final UUID backendId = UUID.randomUUID();
    private final String jobId;
    /** Whether the key context moved since {@link #keys} last serialized the current key. */
    private boolean keyDirty = true;
    private boolean disposed;

    PdpmKeyedStateBackend(TaskKvStateRegistry kvStateRegistry, TypeSerializer<K> keySerializer,
                          ClassLoader userCodeClassLoader, ExecutionConfig executionConfig,
                          TtlTimeProvider ttlTimeProvider, LatencyTrackingStateConfig latencyTrackingStateConfig,
                          SizeTrackingStateConfig sizeTrackingStateConfig, CloseableRegistry cancelStreamRegistry,
                          InternalKeyContext<K> keyContext,
                          StatePool pool, KeyGroupLineages lineages, RegisteredStates states,
                          boolean heapTimers, String jobId) {
        super(kvStateRegistry, keySerializer, userCodeClassLoader, executionConfig, ttlTimeProvider,
                latencyTrackingStateConfig, sizeTrackingStateConfig, cancelStreamRegistry, keyContext);
        this.pool = pool;
        this.lineages = lineages;
        this.states = states;
        this.keys = new StateKeys.Builder<>(keySerializer);
        this.heapTimers = heapTimers;
        this.jobId = jobId;
        this.timers = heapTimers
                ? new HeapPriorityQueueSetFactory(keyGroupRange, numberOfKeyGroups, 128)
                : new StoreTimerFactory(this, this::registerTimers);
    }

    /** Registers a timer queue; a restored one must keep a compatible element serializer. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private int registerTimers(String name, TypeSerializer<?> serializer, boolean allowFutureMetadataUpdates) {
        RegisteredStates.Entry entry = states.get(name);
        RegisteredPriorityQueueStateBackendMetaInfo meta;
        if (entry == null) {
            meta = new RegisteredPriorityQueueStateBackendMetaInfo(name, serializer);
        } else if (entry.metaInfo instanceof RegisteredPriorityQueueStateBackendMetaInfo restored) {
            TypeSerializerSchemaCompatibility<?> c = restored.updateElementSerializer(serializer);
            if (c.isCompatibleAfterMigration() || c.isIncompatible()) {
                throw new FlinkRuntimeException(new StateMigrationException("The new serializer of timer queue '" + name
                        + "' (" + serializer + ") must be compatible with the previous one: timers are not migrated."));
            }
            meta = restored;
        } else {
            throw new IllegalStateException("'" + name + "' names a keyed state of this operator, not a timer queue");
        }
        return states.register(allowFutureMetadataUpdates ? meta.withSerializerUpgradesAllowed() : meta).id;
    }

    // ---------------------------------------------------------------- StateAccess

    @Override
    public TypeSerializer<K> keySerializer() {
        return keySerializer;
    }

    @Override
    public StateKeys.Builder<K> keys() {
        int group = keyContext.getCurrentKeyGroupIndex();
        if (keys.keyGroup() != group || keyDirty) {
            keys.setKey(keyContext.getCurrentKey(), group, lineages.of(group).root());
            keyDirty = false;
        }
        return keys;
    }

    @Override
    public void setCurrentKey(K newKey) {
        super.setCurrentKey(newKey);
        keyDirty = true;
    }

    @Override
    public void setCurrentKeyAndKeyGroup(K newKey, int newKeyGroupIndex) {
        super.setCurrentKeyAndKeyGroup(newKey, newKeyGroupIndex);
        keyDirty = true;
    }

    @Override
    public KvStore currentStore() {
        return lineages.of(keyContext.getCurrentKeyGroupIndex()).store();
    }

    @Override
    public KvStore store(int keyGroup) {
        return lineages.of(keyGroup).store();
    }

    @Override
    public int root(int keyGroup) {
        return lineages.of(keyGroup).root();
    }

    @Override
    public int numberOfKeyGroups() {
        return numberOfKeyGroups;
    }

    // ---------------------------------------------------------------- states

    @Override
    public <N, SV, SEV, S extends State, IS extends S> IS createOrUpdateInternalState(
            TypeSerializer<N> namespaceSerializer, StateDescriptor<S, SV> stateDesc,
            StateSnapshotTransformFactory<SEV> snapshotTransformFactory) throws Exception {
        return createOrUpdateInternalState(namespaceSerializer, stateDesc, snapshotTransformFactory, false);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <N, SV, SEV, S extends State, IS extends S> IS createOrUpdateInternalState(
            TypeSerializer<N> namespaceSerializer, StateDescriptor<S, SV> stateDesc,
            StateSnapshotTransformFactory<SEV> snapshotTransformFactory, boolean allowFutureMetadataUpdates)
            throws Exception {
        RegisteredStates.Entry entry = states.get(stateDesc.getName());
        RegisteredKeyValueStateBackendMetaInfo<N, SV> meta;
        if (entry == null) {
            meta = new RegisteredKeyValueStateBackendMetaInfo<>(stateDesc.getType(), stateDesc.getName(),
                    namespaceSerializer, stateDesc.getSerializer());
            meta = allowFutureMetadataUpdates ? meta.withSerializerUpgradesAllowed() : meta;
            entry = states.register(meta);
        } else {
            if (entry.isTimers()) {
                throw new IllegalStateException("'" + stateDesc.getName() + "' names a timer queue of this operator,"
                        + " not a keyed state");
            }
            meta = updateMetaInfo(entry, (RegisteredKeyValueStateBackendMetaInfo<N, SV>) entry.metaInfo,
                    stateDesc, namespaceSerializer);
            meta = allowFutureMetadataUpdates ? meta.withSerializerUpgradesAllowed() : meta;
            entry.metaInfo = meta;
        }
        AbstractPdpmState<K, N, SV> state = (AbstractPdpmState<K, N, SV>) entry.state;
        if (state == null) {
            state = newState(entry.id, stateDesc, meta);
            entry.state = state;
        } else {
            state.update(meta.getNamespaceSerializer(), meta.getStateSerializer(), stateDesc.getDefaultValue());
            updateFunction(state, stateDesc);
        }
        return (IS) state;
    }

    private <N, SV> RegisteredKeyValueStateBackendMetaInfo<N, SV> updateMetaInfo(
            RegisteredStates.Entry entry, RegisteredKeyValueStateBackendMetaInfo<N, SV> meta,
            StateDescriptor<?, SV> stateDesc, TypeSerializer<N> namespaceSerializer) throws Exception {
        TypeSerializer<N> previousNamespace = meta.getNamespaceSerializer();
        TypeSerializerSchemaCompatibility<N> ns = meta.updateNamespaceSerializer(namespaceSerializer);
        if (ns.isCompatibleAfterMigration() || ns.isIncompatible()) {
            throw new StateMigrationException("The new namespace serializer (" + namespaceSerializer
                    + ") must be compatible with the old namespace serializer (" + previousNamespace + ").");
        }
        meta.checkStateMetaInfo(stateDesc);
        TypeSerializer<SV> previous = meta.getStateSerializer();
        TypeSerializerSchemaCompatibility<SV> value = meta.updateStateSerializer(stateDesc.getSerializer());
        if (value.isIncompatible()) {
            throw new StateMigrationException("The new state serializer (" + stateDesc.getSerializer()
                    + ") must not be incompatible with the old state serializer (" + previous + ").");
        }
        if (value.isCompatibleAfterMigration()) {
            migrate(entry, meta, stateDesc);
        }
        return meta;
    }

    /** Re-encodes every stored value of the state in the new serializer's format. */
    @SuppressWarnings("unchecked")
    private <N, SV> void migrate(RegisteredStates.Entry entry, RegisteredKeyValueStateBackendMetaInfo<N, SV> meta,
                                 StateDescriptor<?, SV> stateDesc) throws Exception {
        if (stateDesc.getType() == StateDescriptor.Type.MAP) {
            TypeSerializerSnapshot<SV> previous = meta.getPreviousStateSerializerSnapshot();
            if (!(previous instanceof MapSerializerSnapshot<?, ?> mapSnapshot)
                    || !(meta.getStateSerializer() instanceof MapSerializer<?, ?> mapSerializer)
                    || !userKeysCompatible(mapSnapshot, mapSerializer)) {
                throw new StateMigrationException("The new serializer for a MapState requires state migration in"
                        + " order for the job to proceed, since the key schema has changed. However, migration for"
                        + " MapState currently only allows value schema evolutions.");
            }
        }
        LOG.info("Migrating state {} to its new serializer's format", stateDesc.getName());
        AbstractPdpmState<K, N, SV> state = (AbstractPdpmState<K, N, SV>) entry.state;
        if (state == null) {
            state = newState(entry.id, stateDesc, meta);
            entry.state = state;
        }
        TypeSerializer<SV> prior = meta.getPreviousStateSerializer();
        TypeSerializer<SV> next = meta.getStateSerializer();
        for (int group : keyGroupRange) {
            KvStore store = store(group);
            List<KvEntry> read = new ArrayList<>();
            try (KvCursor c = store.scan(StateKeys.groupPrefix(root(group), group, entry.id))) {
                while (c.hasNext()) {
                    read.add(c.next());
                }
            }
            for (KvEntry e : read) {
                store.put(e.key(), state.migrateValue(e.value(), prior, next, ttlTimeProvider));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <UK> boolean userKeysCompatible(MapSerializerSnapshot<?, ?> previous, MapSerializer<?, ?> next) {
        TypeSerializerSnapshot<UK> keys = (TypeSerializerSnapshot<UK>) previous.getKeySerializerSnapshot();
        TypeSerializer<UK> nextKeys = (TypeSerializer<UK>) next.getKeySerializer();
        return nextKeys.snapshotConfiguration().resolveSchemaCompatibility(keys).isCompatibleAsIs();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private <N, SV> AbstractPdpmState<K, N, SV> newState(int id, StateDescriptor<?, SV> desc,
                                                         RegisteredKeyValueStateBackendMetaInfo<N, SV> meta) {
        TypeSerializer<N> ns = meta.getNamespaceSerializer();
        TypeSerializer<SV> value = meta.getStateSerializer();
        return switch (desc.getType()) {
            case VALUE -> new PdpmValueState<>(this, id, ns, value, desc.getDefaultValue());
            case LIST -> (AbstractPdpmState) new PdpmListState<>(this, id, ns, (TypeSerializer) value);
            case MAP -> (AbstractPdpmState) new PdpmMapState<>(this, id, ns, (TypeSerializer) value);
            case REDUCING -> new PdpmReducingState<>(this, id, ns, value,
                    ((ReducingStateDescriptor<SV>) desc).getReduceFunction());
            case AGGREGATING -> (AbstractPdpmState) new PdpmAggregatingState<>(this, id, ns, value,
                    ((AggregatingStateDescriptor) desc).getAggregateFunction());
            default -> throw new FlinkRuntimeException("state " + desc.getName() + " of type " + desc.getType()
                    + " is not supported by the pdpm backend");
        };
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void updateFunction(AbstractPdpmState<?, ?, ?> state, StateDescriptor<?, ?> desc) {
        if (state instanceof PdpmReducingState r && desc instanceof ReducingStateDescriptor d) {
            r.setReduceFunction((ReduceFunction) d.getReduceFunction());
        } else if (state instanceof PdpmAggregatingState a && desc instanceof AggregatingStateDescriptor d) {
            a.setAggregateFunction((AggregateFunction) d.getAggregateFunction());
        }
    }

    // ---------------------------------------------------------------- keys

    @Override
    public <N> Stream<K> getKeys(String state, N namespace) {
        return keysAndNamespaces(state).filter(t -> Objects.equals(t.f1, namespace)).map(t -> t.f0).distinct();
    }

    @Override
    public <N> Stream<K> getKeys(List<String> stateNames, N namespace) {
        return stateNames.stream().flatMap(s -> this.<N>getKeys(s, namespace)).distinct();
    }

    @Override
    public <N> Stream<Tuple2<K, N>> getKeysAndNamespaces(String state) {
        return this.<N>keysAndNamespaces(state).distinct();
    }

    /** Every (key, namespace) of a state, one key group after another, read a key group at a time. */
    @SuppressWarnings("unchecked")
    private <N> Stream<Tuple2<K, N>> keysAndNamespaces(String stateName) {
        RegisteredStates.Entry entry = states.get(stateName);
        if (entry == null || entry.isTimers()) {
            return Stream.empty();
        }
        TypeSerializer<N> ns = ((RegisteredKeyValueStateBackendMetaInfo<N, ?>) entry.metaInfo).getNamespaceSerializer();
        Iterator<Integer> groups = keyGroupRange.iterator();
        Iterator<Tuple2<K, N>> all = new Iterator<>() {
            private Iterator<Tuple2<K, N>> current = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && groups.hasNext()) {
                    current = keysOfGroup(groups.next(), entry.id, ns).iterator();
                }
                return current.hasNext();
            }

            @Override
            public Tuple2<K, N> next() {
                hasNext();
                return current.next();
            }
        };
        return StreamSupport.stream(((Iterable<Tuple2<K, N>>) () -> all).spliterator(), false);
    }

    private <N> Collection<Tuple2<K, N>> keysOfGroup(int group, int stateId, TypeSerializer<N> ns) {
        StateKeys.Reader<K, N> reader = new StateKeys.Reader<>(keySerializer.duplicate(), ns.duplicate());
        Set<Tuple2<K, N>> out = new LinkedHashSet<>();
        try (KvCursor c = store(group).scan(StateKeys.groupPrefix(root(group), group, stateId))) {
            while (c.hasNext()) {
                reader.of(c.next().key());
                out.add(Tuple2.of(reader.key(), reader.namespace()));
            }
        } catch (IOException e) {
            throw new FlinkRuntimeException("cannot read the keys of key group " + group, e);
        }
        return out;
    }

    @Override
    public int numKeyValueStateEntries() {
        int count = 0;
        for (RegisteredStates.Entry e : states.all()) {
            if (e.isTimers()) {
                continue;
            }
            for (int group : keyGroupRange) {
                try (KvCursor c = store(group).scan(StateKeys.groupPrefix(root(group), group, e.id))) {
                    while (c.hasNext()) {
                        c.next();
                        count++;
                    }
                }
            }
        }
        return count;
    }

    // ---------------------------------------------------------------- timers

    @Override
    public <T extends HeapPriorityQueueElement & PriorityComparable<? super T> & Keyed<?>>
            KeyGroupedInternalPriorityQueue<T> create(String stateName, TypeSerializer<T> byteOrderedElementSerializer) {
        return timers.create(stateName, byteOrderedElementSerializer);
    }

    @Override
    public <T extends HeapPriorityQueueElement & PriorityComparable<? super T> & Keyed<?>>
            KeyGroupedInternalPriorityQueue<T> create(String stateName, TypeSerializer<T> byteOrderedElementSerializer,
                                                      boolean allowFutureMetadataUpdates) {
        return timers.create(stateName, byteOrderedElementSerializer, allowFutureMetadataUpdates);
    }

    /** Heap timers are copied into every checkpoint and savepoint by the operator, as Flink's legacy path does. */
    @Override
    public boolean requiresLegacySynchronousTimerSnapshots(SnapshotType checkpointType) {
        return heapTimers;
    }

    @Override
    public boolean isSafeToReuseKVState() {
        return true;
    }

    @Override
    public String getBackendTypeIdentifier() {
        return BACKEND_TYPE;
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * Pins each lineage's current epoch and moves its writes to the next: what the checkpoint must
     * hold stays readable, at the cost of one metadata call per lineage, whatever the state's size.
     */
    @Override
    public RunnableFuture<SnapshotResult<KeyedStateHandle>> snapshot(long checkpointId, long timestamp,
                                                                    CheckpointStreamFactory streamFactory,
                                                                    CheckpointOptions checkpointOptions)
            throws Exception {
        if (states.isEmpty()) {
            return DoneFuture.of(SnapshotResult.empty());
        }
        String owner = "flink-job-" + jobId + "-chk-" + checkpointId + "-" + backendId.toString().substring(0, 8);
        List<PinnedRange> pinned = new ArrayList<>();
        List<HandleAndLocalPath> pins = new ArrayList<>();
        for (KeyGroupLineages.Segment s : lineages.segments()) {
            s.store().flush();   // the pinned epoch must hold every write made in it
            long epoch = s.epoch();
            pool.pin(s.lineage(), epoch, owner);
            s.store().advanceEpoch(epoch + 1);
            PinnedRange range = new PinnedRange(s.range(), s.root(), s.lineage(), epoch, owner);
            pinned.add(range);
            pins.add(HandleAndLocalPath.of(new FileStateHandle(range.path(pool.id()).toPath(), 0),
                    "pdpm-pin-" + s.lineage() + "-" + epoch));
        }
        byte[] meta = new CheckpointMeta(pool.id(), jobId, pinned, serializedMetaInfo()).toBytes();
        IncrementalRemoteKeyedStateHandle handle = new IncrementalRemoteKeyedStateHandle(backendId, keyGroupRange,
                checkpointId, List.of(), pins, new ByteStreamStateHandle("pdpm-checkpoint-" + UUID.randomUUID(), meta),
                meta.length);
        return DoneFuture.of(SnapshotResult.of(handle));
    }

    private byte[] serializedMetaInfo() throws IOException {
        KeyedBackendSerializationProxy<K> proxy = new KeyedBackendSerializationProxy<>(keySerializer,
                states.snapshots(), false);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        proxy.write(new DataOutputViewStreamWrapper(bytes));
        return bytes.toByteArray();
    }

    /**
     * A canonical savepoint: the state as of a pinned epoch of each lineage, written out in Flink's
     * portable format while the job goes on; the pins are released when it is written.
     */
    @Override
    public SavepointResources<K> savepoint() throws Exception {
        String owner = "flink-job-" + jobId + "-savepoint-" + UUID.randomUUID();
        List<StoreSavepointResources.PinnedView> views = new ArrayList<>();
        for (KeyGroupLineages.Segment s : lineages.segments()) {
            s.store().flush();   // the pinned epoch must hold every write made in it
            long epoch = s.epoch();
            pool.pin(s.lineage(), epoch, owner);
            s.store().advanceEpoch(epoch + 1);
            views.add(new StoreSavepointResources.PinnedView(s.range(), s.root(), s.lineage(), epoch,
                    s.store().asOf(s.lineage(), epoch)));
        }
        List<StoreSavepointResources.StateColumn> columns = new ArrayList<>();
        for (RegisteredStates.Entry e : states.ordered()) {
            columns.add(new StoreSavepointResources.StateColumn(e.id, e.metaInfo.snapshot()));
        }
        StoreSavepointResources<K> resources = new StoreSavepointResources<>(columns, views, keyGroupRange,
                keySerializer, numberOfKeyGroups, keyGroupCompressionDecorator,
                () -> views.forEach(v -> pool.unpin(v.lineage(), v.epoch(), owner)));
        return new SavepointResources<>(resources, SnapshotExecutionType.ASYNCHRONOUS);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        // Pins are released by discarding the checkpoint (the pdpm:// file system), not here.
    }

    // ---------------------------------------------------------------- life cycle

    /**
     * Closes the store clients and drops this backend's lineages: checkpoints keep what they pinned,
     * and whatever a zombie of this task still writes is never seen.
     */
    @Override
    public void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        super.dispose();
        lineages.drop(pool);
        lineages.close();
    }

    /** The lineage each key group lives in (for tests and the operator's view). */
    public Map<KeyGroupRange, Integer> lineageByRange() {
        Map<KeyGroupRange, Integer> m = new java.util.LinkedHashMap<>();
        lineages.segments().forEach(s -> m.put(s.range(), s.lineage()));
        return m;
    }

    StatePool pool() {
        return pool;
    }

    /**
     * Returns once every state write made so far is in the store. Checkpoints do this themselves;
     * benchmarks call it so that buffered writes are counted only once they have reached the store.
     */
    public void flushWrites() {
        lineages.segments().forEach(s -> s.store().flush());
    }
}
