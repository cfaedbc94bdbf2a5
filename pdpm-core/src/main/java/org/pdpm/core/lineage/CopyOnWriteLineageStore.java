package org.pdpm.core.lineage;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KeyBytes;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.LineageStore;

/**
 * The writer of one lineage on a store that updates in place. Each key has one current record in
 * the lineage, tagged with the epoch it was written in and overwritten in place. Before it
 * overwrites a record of an earlier epoch that a held point (a pin or a fork point of the lineage)
 * still sees, it copies that record to a preserved key of its own, and only then overwrites: a
 * crash in between leaves an extra copy, never a lost one. Which points are held it learns when it
 * opens and at every {@link #advanceEpoch}: a pin is made before its writer leaves the epoch
 * ({@link StoreLineages#pin} refuses later ones), so it always knows in time.
 *
 * <p>Cost over the bare store: a PUT or DELETE is one store PUT when no point is held below the
 * current epoch, or when this client wrote the key in the current epoch already (it remembers
 * {@link StoreLineages#DEFAULT_WRITTEN_KEYS_CACHED} keys); otherwise a store GET first, and one more
 * store PUT when the old record must be preserved. A GET is one batched read of every level (the
 * lineage and its ancestors), plus a scan of the key's preserved versions when an ancestor's record
 * is newer than the fork point.
 *
 * <p>Writes are serialized by the client; reads run concurrently. Round trips in {@link #stats()}
 * are the store client's own counters read around each operation, so they are exact when this
 * writer is the only user of that client.
 */
final class CopyOnWriteLineageStore implements LineageStore {

    private final StoreLineages catalog;
    private final ConditionalKvStore store;
    private final int lineage;
    private final LineageReader reader;
    private final KvLimits limits;
    private final WrittenKeys written;
    private final Object writeLock = new Object();
    private volatile long epoch;
    private volatile long[] held;
    private volatile boolean closed;

    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final LongAdder getRoundTrips = new LongAdder();
    private final LongAdder putRoundTrips = new LongAdder();
    private final LongAdder deleteRoundTrips = new LongAdder();
    private final LongAdder verbs = new LongAdder();
    private final LongAdder bytes = new LongAdder();

    CopyOnWriteLineageStore(StoreLineages catalog, int lineage, long epoch, long[] held,
                            List<LineageReader.Level> levels, int writtenKeysCached) {
        this.catalog = catalog;
        this.store = catalog.store();
        this.lineage = lineage;
        this.epoch = epoch;
        this.held = held;
        this.reader = new LineageReader(store, levels);
        KvLimits under = store.limits();
        int maxKey = LineageKeys.maxUserKeyBytes(under.maxKeyBytes());
        if (maxKey < 1) {
            throw new IllegalArgumentException("the store's maxKeyBytes=" + under.maxKeyBytes() + " leaves no room for"
                    + " user keys under the lineage layer's key headers");
        }
        this.limits = new KvLimits(maxKey, under.maxValueBytes() - Version.HEADER_BYTES);
        this.written = new WrittenKeys(writtenKeysCached);
    }

    @Override
    public int lineage() {
        return lineage;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    @Override
    public void advanceEpoch(long next) {
        checkOpen();
        synchronized (writeLock) {
            if (next <= epoch) {
                throw new IllegalArgumentException("epochs only advance: epoch=" + epoch + ", next=" + next);
            }
            held = catalog.enterEpoch(lineage, next);
            epoch = next;
        }
    }

    @Override
    public KvSnapshot asOf(int lineage, long epoch) {
        checkOpen();
        if (!catalog.pinned(lineage, epoch)) {
            throw new IllegalStateException("(lineage " + lineage + ", epoch " + epoch + ") is not pinned");
        }
        LineageReader asOf = new LineageReader(store, catalog.levels(lineage, epoch));
        return new KvSnapshot() {
            @Override
            public byte[] get(byte[] key) {
                limits.checkKey(key);
                return asOf.get(key);
            }

            @Override
            public KvCursor scan(byte[] prefix) {
                limits.checkPrefix(prefix);
                return asOf.scan(prefix);
            }
        };
    }

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        checkOpen();
        KvStats before = store.stats();
        try {
            return reader.get(key);
        } finally {
            gets.increment();
            count(getRoundTrips, before);
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        checkOpen();
        KvStats before = store.stats();
        try {
            write(key, false, value);
        } finally {
            puts.increment();
            count(putRoundTrips, before);
        }
    }

    /** A tombstone, not a removal: it must hide what the lineage's ancestors hold for the key. */
    @Override
    public void delete(byte[] key) {
        limits.checkKey(key);
        checkOpen();
        KvStats before = store.stats();
        try {
            write(key, true, new byte[0]);
        } finally {
            deletes.increment();
            count(deleteRoundTrips, before);
        }
    }

    private void write(byte[] key, boolean tombstone, byte[] value) {
        synchronized (writeLock) {
            long e = epoch;
            KeyBytes k = new KeyBytes(key.clone());
            byte[] dataKey = LineageKeys.data(lineage, k.bytes());
            if (mayPreserve(e) && !written.writtenIn(k, e)) {
                byte[] old = store.get(dataKey);
                if (old != null) {
                    long oldEpoch = Version.decode(old).epoch();
                    if (oldEpoch > e) {
                        throw new IllegalStateException("the record of a key in lineage " + lineage + " is of epoch "
                                + oldEpoch + ", after this writer's epoch=" + e + ": another writer in this lineage?");
                    }
                    if (oldEpoch < e && LineageGarbage.seenByAny(held, oldEpoch, e)) {
                        store.put(LineageKeys.version(lineage, k.bytes(), oldEpoch), old);
                    }
                }
            }
            store.put(dataKey, new Version(e, tombstone, value).encode());
            written.written(k, e);
        }
    }

    /** Whether any held point lies below the current epoch, i.e. whether an old record may be needed. */
    private boolean mayPreserve(long e) {
        long[] h = held;
        return h.length > 0 && h[0] < e;
    }

    @Override
    public KvCursor scan(byte[] prefix) {
        limits.checkPrefix(prefix);
        checkOpen();
        return reader.scan(prefix.clone());
    }

    private void count(LongAdder roundTrips, KvStats before) {
        KvStats d = store.stats().minus(before);
        roundTrips.add(Math.max(0, d.getRoundTrips()) + Math.max(0, d.putRoundTrips())
                + Math.max(0, d.deleteRoundTrips()));
        verbs.add(Math.max(0, d.verbs()));
        bytes.add(Math.max(0, d.bytes()));
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), getRoundTrips.sum(), putRoundTrips.sum(),
                deleteRoundTrips.sum(), verbs.sum(), bytes.sum());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the writer of lineage " + lineage + " is closed");
        }
    }

    /** Closes this client only; the store belongs to whoever opened the {@link StoreLineages}. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "CopyOnWriteLineageStore[lineage=" + lineage + ", epoch=" + epoch + ", held=" + Arrays.toString(held)
                + ", " + store + "]";
    }
}
