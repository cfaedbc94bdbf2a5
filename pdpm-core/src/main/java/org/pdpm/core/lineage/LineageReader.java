package org.pdpm.core.lineage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStore;

/**
 * Reads a key or a prefix as a list of levels sees it: a lineage's own records, then each ancestor
 * as of the epoch where its descendant forked from it. The first level that knows a key decides;
 * a tombstone there hides the levels below. Levels are fixed when the view is made (forks never
 * change), so reads need no catalog access.
 */
final class LineageReader {

    /**
     * Lineage {@code lineage} as of {@code asOf}: its current record when that is no newer than
     * {@code asOf}, else the newest preserved version that is. {@link Long#MAX_VALUE} reads the head.
     */
    record Level(int lineage, long asOf) {
        boolean head() {
            return asOf == Long.MAX_VALUE;
        }
    }

    private final KvStore store;
    private final List<Level> levels;

    LineageReader(KvStore store, List<Level> levels) {
        this.store = store;
        this.levels = List.copyOf(levels);
    }

    /** One batched read of the key's current record in every level, then preserved ones only where needed. */
    byte[] get(byte[] userKey) {
        List<byte[]> keys = new ArrayList<>(levels.size());
        for (Level l : levels) {
            keys.add(LineageKeys.data(l.lineage(), userKey));
        }
        List<byte[]> records = levels.size() == 1 ? Collections.singletonList(store.get(keys.get(0))) : store.getAll(keys);
        for (int i = 0; i < levels.size(); i++) {
            Version v = resolve(levels.get(i), userKey, records.get(i));
            if (v != null) {
                return v.visible();
            }
        }
        return null;
    }

    /** What {@code level} holds for the key, or null when it knows nothing of it. */
    private Version resolve(Level level, byte[] userKey, byte[] current) {
        if (current == null) {
            return null;
        }
        Version v = Version.decode(current);
        if (v.epoch() <= level.asOf()) {
            return v;
        }
        Version newest = null;
        try (KvCursor c = store.scan(LineageKeys.versionsOf(level.lineage(), userKey))) {
            while (c.hasNext()) {
                KvEntry e = c.next();
                Version p = Version.decode(e.value());
                if (p.epoch() <= level.asOf()) {
                    newest = p;
                }
            }
        }
        return newest;
    }

    /** The visible entries under {@code userPrefix}, in user-key order, merged across levels. */
    KvCursor scan(byte[] userPrefix) {
        List<LevelCursor> cursors = new ArrayList<>(levels.size());
        try {
            for (Level l : levels) {
                cursors.add(new LevelCursor(store, l, userPrefix));
            }
        } catch (RuntimeException e) {
            cursors.forEach(LevelCursor::close);
            throw e;
        }
        return new MergedCursor(cursors);
    }

    /** A resolved record of one level: the key and what the level holds for it. */
    private record Resolved(byte[] userKey, Version version) {}

    /** One level's keys that it knows something of, in user-key order. */
    private static final class LevelCursor implements AutoCloseable {
        private final Level level;
        private final KvCursor current;
        private final KvCursor preserved;
        private KvEntry nextCurrent;
        private KvEntry nextPreserved;
        private LineageKeys.VersionKey nextPreservedKey;
        private Resolved head;

        LevelCursor(KvStore store, Level level, byte[] userPrefix) {
            this.level = level;
            this.current = store.scan(LineageKeys.data(level.lineage(), userPrefix));
            KvCursor p = null;
            try {
                p = level.head() ? null : store.scan(LineageKeys.versionPrefix(level.lineage(), userPrefix));
            } catch (RuntimeException e) {
                current.close();
                throw e;
            }
            this.preserved = p;
            nextCurrent = current.hasNext() ? current.next() : null;
            advancePreserved();
            advance();
        }

        private void advancePreserved() {
            if (preserved != null && preserved.hasNext()) {
                nextPreserved = preserved.next();
                nextPreservedKey = LineageKeys.parseVersion(nextPreserved.key());
            } else {
                nextPreserved = null;
                nextPreservedKey = null;
            }
        }

        Resolved head() {
            return head;
        }

        /** Moves to the next key this level knows something of. */
        void advance() {
            head = null;
            while (head == null && (nextCurrent != null || nextPreserved != null)) {
                byte[] currentKey = nextCurrent == null ? null : LineageKeys.userKeyOfData(nextCurrent.key());
                byte[] key = currentKey;
                if (nextPreservedKey != null && (key == null
                        || Arrays.compareUnsigned(nextPreservedKey.userKey(), key) < 0)) {
                    key = nextPreservedKey.userKey();
                }
                Version record = null;
                if (currentKey != null && Arrays.equals(currentKey, key)) {
                    record = Version.decode(nextCurrent.value());
                    nextCurrent = current.hasNext() ? current.next() : null;
                }
                Version newestPreserved = null;
                while (nextPreservedKey != null && Arrays.equals(nextPreservedKey.userKey(), key)) {
                    Version p = Version.decode(nextPreserved.value());
                    if (p.epoch() <= level.asOf()) {
                        newestPreserved = p;
                    }
                    advancePreserved();
                }
                // Preserved versions without a current record are a purge in progress: nothing to know.
                if (record != null) {
                    Version v = record.epoch() <= level.asOf() ? record : newestPreserved;
                    if (v != null) {
                        head = new Resolved(key, v);
                    }
                }
            }
        }

        @Override
        public void close() {
            current.close();
            if (preserved != null) {
                preserved.close();
            }
        }
    }

    /** The levels merged: per key, the first level that knows it; tombstones hide it. */
    private static final class MergedCursor implements KvCursor {
        private final List<LevelCursor> cursors;
        private KvEntry next;

        MergedCursor(List<LevelCursor> cursors) {
            this.cursors = cursors;
        }

        @Override
        public boolean hasNext() {
            while (next == null) {
                byte[] smallest = null;
                Version decided = null;
                for (LevelCursor c : cursors) {
                    Resolved r = c.head();
                    if (r != null && (smallest == null || Arrays.compareUnsigned(r.userKey(), smallest) < 0)) {
                        smallest = r.userKey();
                        decided = r.version();
                    }
                }
                if (smallest == null) {
                    return false;
                }
                for (LevelCursor c : cursors) {
                    if (c.head() != null && Arrays.equals(c.head().userKey(), smallest)) {
                        c.advance();
                    }
                }
                if (!decided.tombstone()) {
                    next = new KvEntry(smallest, decided.value());
                }
            }
            return true;
        }

        @Override
        public KvEntry next() {
            if (!hasNext()) {
                throw new NoSuchElementException("lineage scan has no more entries");
            }
            KvEntry e = next;
            next = null;
            return e;
        }

        @Override
        public void close() {
            cursors.forEach(LevelCursor::close);
        }
    }
}
