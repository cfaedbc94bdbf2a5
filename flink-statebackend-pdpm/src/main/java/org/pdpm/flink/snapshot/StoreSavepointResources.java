package org.pdpm.flink.snapshot;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.CompositeKeySerializationUtils;
import org.apache.flink.runtime.state.FullSnapshotResources;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyValueStateIterator;
import org.apache.flink.runtime.state.StreamCompressionDecorator;
import org.apache.flink.runtime.state.metainfo.StateMetaInfoSnapshot;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.flink.state.StateKeys;

/**
 * A canonical savepoint's source: every state's entries as of pinned epochs, key group by key
 * group, with Flink's key-group prefix in place of the store's header — the same bytes Flink's
 * RocksDB backend writes, so any backend can read the savepoint.
 */
public final class StoreSavepointResources<K> implements FullSnapshotResources<K> {

    /** A state in the savepoint: its id in store keys and its meta data. */
    public record StateColumn(int stateId, StateMetaInfoSnapshot metaInfo) {}

    /** Key groups {@code range} as a pinned {@code (lineage, epoch)} sees them. */
    public record PinnedView(KeyGroupRange range, int root, int lineage, long epoch, KvSnapshot view) {}

    private final List<StateColumn> columns;
    private final List<PinnedView> views;
    private final KeyGroupRange keyGroupRange;
    private final TypeSerializer<K> keySerializer;
    private final int keyGroupPrefixBytes;
    private final StreamCompressionDecorator compression;
    private final Runnable release;

    public StoreSavepointResources(List<StateColumn> columns, List<PinnedView> views, KeyGroupRange keyGroupRange,
                                   TypeSerializer<K> keySerializer, int numberOfKeyGroups,
                                   StreamCompressionDecorator compression, Runnable release) {
        this.columns = List.copyOf(columns);
        this.views = List.copyOf(views);
        this.keyGroupRange = keyGroupRange;
        this.keySerializer = keySerializer;
        this.keyGroupPrefixBytes = CompositeKeySerializationUtils.computeRequiredBytesInKeyGroupPrefix(numberOfKeyGroups);
        this.compression = compression;
        this.release = release;
    }

    @Override
    public List<StateMetaInfoSnapshot> getMetaInfoSnapshots() {
        List<StateMetaInfoSnapshot> out = new ArrayList<>(columns.size());
        columns.forEach(c -> out.add(c.metaInfo()));
        return out;
    }

    @Override
    public KeyValueStateIterator createKVStateIterator() {
        return new Iterator();
    }

    @Override
    public KeyGroupRange getKeyGroupRange() {
        return keyGroupRange;
    }

    @Override
    public TypeSerializer<K> getKeySerializer() {
        return keySerializer;
    }

    @Override
    public StreamCompressionDecorator getStreamCompressionDecorator() {
        return compression;
    }

    /** Releases the pins the savepoint read from. */
    @Override
    public void release() {
        release.run();
    }

    private PinnedView viewOf(int keyGroup) {
        for (PinnedView v : views) {
            if (v.range().contains(keyGroup)) {
                return v;
            }
        }
        throw new IllegalStateException("key group " + keyGroup + " is in no pinned view");
    }

    /** Entries ordered by key group, then state, then key; one (key group, state) read at a time. */
    private final class Iterator implements KeyValueStateIterator {
        private int group = keyGroupRange.getStartKeyGroup() - 1;
        private int column = columns.size();
        private List<KvEntry> batch = List.of();
        private int at;
        private int lastGroup = -1;
        private int lastColumn = -1;
        private boolean newGroup;
        private boolean newState;
        private byte[] key;
        private byte[] value;

        Iterator() {
            next();
        }

        @Override
        public void next() {
            if (columns.isEmpty()) {
                key = null;
                return;
            }
            while (at >= batch.size()) {
                if (++column >= columns.size()) {
                    column = 0;
                    if (++group > keyGroupRange.getEndKeyGroup()) {
                        key = null;
                        return;
                    }
                }
                batch = read(group, columns.get(column).stateId());
                at = 0;
            }
            KvEntry e = batch.get(at++);
            newGroup = group != lastGroup;
            newState = newGroup || column != lastColumn;
            lastGroup = group;
            lastColumn = column;
            key = flinkKey(group, e.key());
            value = e.value();
        }

        private List<KvEntry> read(int keyGroup, int stateId) {
            PinnedView v = viewOf(keyGroup);
            List<KvEntry> out = new ArrayList<>();
            try (KvCursor c = v.view().scan(StateKeys.groupPrefix(v.root(), keyGroup, stateId))) {
                while (c.hasNext()) {
                    out.add(c.next());
                }
            }
            return out;
        }

        private byte[] flinkKey(int keyGroup, byte[] storeKey) {
            int tail = storeKey.length - StateKeys.HEADER_BYTES;
            byte[] k = new byte[keyGroupPrefixBytes + tail];
            for (int i = 0; i < keyGroupPrefixBytes; i++) {
                k[i] = (byte) (keyGroup >>> (8 * (keyGroupPrefixBytes - 1 - i)));
            }
            System.arraycopy(storeKey, StateKeys.HEADER_BYTES, k, keyGroupPrefixBytes, tail);
            return k;
        }

        @Override
        public int keyGroup() {
            return group;
        }

        @Override
        public byte[] key() {
            return key;
        }

        @Override
        public byte[] value() {
            return value;
        }

        @Override
        public int kvStateId() {
            return column;
        }

        @Override
        public boolean isNewKeyValueState() {
            return newState;
        }

        @Override
        public boolean isNewKeyGroup() {
            return newGroup;
        }

        @Override
        public boolean isValid() {
            return key != null;
        }

        @Override
        public void close() {
        }
    }
}
