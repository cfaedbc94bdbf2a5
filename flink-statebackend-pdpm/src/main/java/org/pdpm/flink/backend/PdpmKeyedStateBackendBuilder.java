package org.pdpm.flink.backend;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.BackendBuildingException;
import org.apache.flink.runtime.state.CompositeKeySerializationUtils;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedBackendSerializationProxy;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.StateBackend.KeyedStateBackendParameters;
import org.apache.flink.runtime.state.StateSerializerProvider;
import org.apache.flink.runtime.state.InternalKeyContextImpl;
import org.apache.flink.runtime.state.metrics.LatencyTrackingStateConfig;
import org.apache.flink.runtime.state.metrics.SizeTrackingStateConfig;
import org.apache.flink.runtime.state.restore.FullSnapshotRestoreOperation;
import org.apache.flink.runtime.state.restore.KeyGroup;
import org.apache.flink.runtime.state.restore.KeyGroupEntry;
import org.apache.flink.runtime.state.restore.SavepointRestoreResult;
import org.apache.flink.util.StateMigrationException;
import org.apache.flink.runtime.state.restore.ThrowingIterator;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;
import org.pdpm.flink.pool.StatePool;
import org.pdpm.flink.snapshot.CheckpointMeta;
import org.pdpm.flink.snapshot.CheckpointMeta.PinnedRange;
import org.pdpm.flink.state.StateKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a backend: on a fresh start, one new lineage for its key groups; from pdpm checkpoints, a
 * lineage forked at each pinned point its key groups overlap — O(1) in the state's size, nothing
 * downloaded; from a canonical savepoint (any backend's), a new lineage loaded with its entries.
 */
public final class PdpmKeyedStateBackendBuilder<K> {

    private static final Logger LOG = LoggerFactory.getLogger(PdpmKeyedStateBackendBuilder.class);
    /** Entries written per batch when loading a canonical savepoint. */
    private static final int LOAD_BATCH = 256;
    /** The epoch a new or forked lineage writes in first. */
    private static final long FIRST_EPOCH = 1;

    private final KeyedStateBackendParameters<K> parameters;
    private final StatePool pool;
    private final boolean heapTimers;
    private final long writeBufferBytes;
    private final long readCacheBytes;
    private final LatencyTrackingStateConfig latencyTracking;
    private final SizeTrackingStateConfig sizeTracking;
    private boolean keysChecked;

    public PdpmKeyedStateBackendBuilder(KeyedStateBackendParameters<K> parameters, StatePool pool, boolean heapTimers,
                                       long writeBufferBytes, long readCacheBytes, LatencyTrackingStateConfig latencyTracking,
                                       SizeTrackingStateConfig sizeTracking) {
        this.parameters = parameters;
        this.pool = pool;
        this.heapTimers = heapTimers;
        this.writeBufferBytes = writeBufferBytes;
        this.readCacheBytes = readCacheBytes;
        this.latencyTracking = latencyTracking;
        this.sizeTracking = sizeTracking;
    }

    public AbstractKeyedStateBackend<K> build() throws BackendBuildingException {
        KeyGroupRange range = parameters.getKeyGroupRange();
        StateSerializerProvider<K> keys = StateSerializerProvider.fromNewRegisteredSerializer(parameters.getKeySerializer());
        RegisteredStates states = new RegisteredStates();
        List<KeyGroupLineages.Segment> segments = new ArrayList<>();
        List<Integer> created = new ArrayList<>();
        String jobId = parameters.getJobID().toString();
        try {
            List<IncrementalRemoteKeyedStateHandle> pinned = new ArrayList<>();
            List<KeyedStateHandle> full = new ArrayList<>();
            for (KeyedStateHandle h : parameters.getStateHandles()) {
                if (h == null) {
                    continue;
                }
                if (h instanceof IncrementalRemoteKeyedStateHandle i) {
                    pinned.add(i);
                } else if (h instanceof KeyGroupsStateHandle) {
                    full.add(h);
                } else {
                    throw new BackendBuildingException("the pdpm backend cannot restore " + h.getClass().getName()
                            + ": it restores its own checkpoints and canonical savepoints (take one of those to move"
                            + " state from another backend)");
                }
            }
            if (!pinned.isEmpty() && !full.isEmpty()) {
                throw new BackendBuildingException("cannot restore a mix of pdpm checkpoints and canonical savepoints");
            }
            for (IncrementalRemoteKeyedStateHandle h : pinned) {
                restorePinned(h, range, keys, states, segments, created, jobId);
            }
            for (KeyGroupRange gap : KeyGroupLineages.gaps(range, segments)) {
                int lineage = pool.createLineage();
                created.add(lineage);
                segments.add(new KeyGroupLineages.Segment(gap, lineage, lineage, open(lineage)));
            }
            KeyGroupLineages lineages = new KeyGroupLineages(range, segments);
            if (!full.isEmpty()) {
                loadCanonical(full, range, keys, states, lineages);
            }
            StoreMetrics.register(parameters.getMetricGroup(), lineages);
            // After a restore, the key serializer may be the reconfigured one that reads the old keys.
            return new PdpmKeyedStateBackend<>(parameters.getKvStateRegistry(), keys.currentSchemaSerializer(),
                    parameters.getEnv().getUserCodeClassLoader().asClassLoader(), parameters.getEnv().getExecutionConfig(),
                    parameters.getTtlTimeProvider(), latencyTracking, sizeTracking, parameters.getCancelStreamRegistry(),
                    new InternalKeyContextImpl<>(range, parameters.getNumberOfKeyGroups()),
                    pool, lineages, states, heapTimers, jobId);
        } catch (Exception e) {
            for (KeyGroupLineages.Segment s : segments) {
                s.store().close();
            }
            for (int lineage : created) {
                try {
                    pool.dropLineage(lineage);
                } catch (RuntimeException dropFailed) {
                    e.addSuppressed(dropFailed);
                }
            }
            if (e instanceof BackendBuildingException b) {
                throw b;
            }
            throw new BackendBuildingException("cannot open the pdpm keyed state backend for " + range + ": "
                    + e.getMessage(), e);
        }
    }

    /** Forks, for each pinned range overlapping ours, a lineage that sees what the checkpoint saw. */
    private void restorePinned(IncrementalRemoteKeyedStateHandle handle, KeyGroupRange range,
                               StateSerializerProvider<K> keys, RegisteredStates states,
                               List<KeyGroupLineages.Segment> segments, List<Integer> created, String jobId)
            throws Exception {
        CheckpointMeta meta;
        try (InputStream in = handle.getMetaDataStateHandle().openInputStream()) {
            byte[] head = in.readNBytes(8);
            if (!CheckpointMeta.isOurs(head)) {
                throw new BackendBuildingException("checkpoint " + handle.getCheckpointId() + " was not taken by the pdpm"
                        + " backend (an incremental checkpoint of another backend?): restore from a canonical savepoint");
            }
        }
        try (InputStream in = handle.getMetaDataStateHandle().openInputStream()) {
            meta = CheckpointMeta.read(in);
        }
        if (!meta.pool().equals(pool.id())) {
            throw new BackendBuildingException("checkpoint " + handle.getCheckpointId() + " holds its state in pdpm pool '"
                    + meta.pool() + "', but this backend runs on pool '" + pool.id() + "': configure the same pool,"
                    + " or move the state with a canonical savepoint");
        }
        KeyedBackendSerializationProxy<K> proxy = new KeyedBackendSerializationProxy<>(
                parameters.getEnv().getUserCodeClassLoader().asClassLoader());
        proxy.read(new DataInputViewStreamWrapper(new java.io.ByteArrayInputStream(meta.metaInfo())));
        if (!keysChecked) {
            checkKeySerializer(keys, proxy.getKeySerializerSnapshot());
            keysChecked = true;
        }
        states.restore(proxy.getStateMetaInfoSnapshots());
        boolean sameJob = meta.jobId().equals(jobId);
        for (PinnedRange p : meta.ranges()) {
            KeyGroupRange overlap = p.range().getIntersection(range);
            if (overlap.getNumberOfKeyGroups() == 0) {
                continue;
            }
            int lineage = pool.fork(p.lineage(), p.epoch());
            created.add(lineage);
            segments.add(new KeyGroupLineages.Segment(overlap, p.root(), lineage, open(lineage)));
            if (sameJob) {
                // An earlier attempt of this job wrote there: fence it, its checkpoints' pins stay.
                pool.dropLineage(p.lineage());
            }
            LOG.info("Restored key groups {} of checkpoint {} as lineage {} (forked from lineage {} at epoch {})",
                    overlap, handle.getCheckpointId(), lineage, p.lineage(), p.epoch());
        }
    }

    private WriteBehindStore open(int lineage) {
        return new WriteBehindStore(pool.open(lineage, FIRST_EPOCH), writeBufferBytes, readCacheBytes);
    }

    /** Keys are never migrated: the new serializer must read the old keys as they are (or reconfigured). */
    private static <K> void checkKeySerializer(StateSerializerProvider<K> keys, TypeSerializerSnapshot<K> previous)
            throws StateMigrationException {
        TypeSerializer<K> registered = keys.currentSchemaSerializer();
        TypeSerializerSchemaCompatibility<K> c = keys.setPreviousSerializerSnapshotForRestoredState(previous);
        if (c.isCompatibleAfterMigration() || c.isIncompatible()) {
            throw new StateMigrationException("The new key serializer (" + registered
                    + ") must be compatible with the previous key serializer.");
        }
    }

    /** Writes a canonical savepoint's entries into this backend's fresh lineage. */
    private void loadCanonical(List<KeyedStateHandle> handles, KeyGroupRange range, StateSerializerProvider<K> keys,
                               RegisteredStates states, KeyGroupLineages lineages) throws Exception {
        FullSnapshotRestoreOperation<K> restore = new FullSnapshotRestoreOperation<>(range,
                parameters.getEnv().getUserCodeClassLoader().asClassLoader(), handles,
                keys);
        int prefixBytes = CompositeKeySerializationUtils.computeRequiredBytesInKeyGroupPrefix(parameters.getNumberOfKeyGroups());
        long entries = 0;
        try (ThrowingIterator<SavepointRestoreResult> results = restore.restore()) {
            while (results.hasNext()) {
                SavepointRestoreResult result = results.next();
                states.restore(result.getStateMetaInfoSnapshots());
                int[] ids = new int[result.getStateMetaInfoSnapshots().size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = states.get(result.getStateMetaInfoSnapshots().get(i).getName()).id;
                }
                try (ThrowingIterator<KeyGroup> groups = result.getRestoredKeyGroups()) {
                    while (groups.hasNext()) {
                        KeyGroup group = groups.next();
                        KeyGroupLineages.Segment segment = lineages.of(group.getKeyGroupId());
                        List<KvEntry> batch = new ArrayList<>(LOAD_BATCH);
                        try (ThrowingIterator<KeyGroupEntry> it = group.getKeyGroupEntries()) {
                            while (it.hasNext()) {
                                KeyGroupEntry e = it.next();
                                batch.add(new KvEntry(storeKey(segment.root(), group.getKeyGroupId(),
                                        ids[e.getKvStateId()], e.getKey(), prefixBytes), e.getValue()));
                                if (batch.size() == LOAD_BATCH) {
                                    entries += flush(segment.store(), batch);
                                }
                            }
                        }
                        entries += flush(segment.store(), batch);
                    }
                }
            }
        }
        LOG.info("Loaded {} entries of a canonical savepoint into key groups {}", entries, range);
    }

    private static int flush(KvStore store, List<KvEntry> batch) {
        int n = batch.size();
        if (n > 0) {
            store.putAll(batch);
            batch.clear();
        }
        return n;
    }

    private static byte[] storeKey(int root, int keyGroup, int stateId, byte[] flinkKey, int prefixBytes) {
        byte[] header = StateKeys.groupPrefix(root, keyGroup, stateId);
        byte[] key = new byte[header.length + flinkKey.length - prefixBytes];
        System.arraycopy(header, 0, key, 0, header.length);
        System.arraycopy(flinkKey, prefixBytes, key, header.length, flinkKey.length - prefixBytes);
        return key;
    }
}
