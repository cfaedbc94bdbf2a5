package org.pdpm.flink.backend;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.pdpm.core.api.KeyBytes;

/**
 * Values a task has read in its lineage, kept up to date by its writes, the least recently used
 * dropped first. They
 * stay true because the task is its lineage's only writer: a restore, a rescale or another job
 * forks a lineage of its own, and a zombie of an earlier attempt writes in one nobody reads. So a
 * repeated read costs a hash lookup instead of a round trip, as RocksDB's block cache saves a
 * read of disk. Not thread-safe: its owner holds its lock around every call.
 *
 * <p>A cache holds at most {@code capacity} bytes (keys, values and {@link #ENTRY_OVERHEAD} per
 * entry), and all caches of a JVM together about their {@link HeapBudget}: past it, each drops its
 * eldest entries as it adds new ones.
 */
final class ReadCache {

    /** What a lookup returns for a key known to have no value; compared by identity. */
    static final byte[] ABSENT = new byte[0];
    /** Heap an entry costs beyond its key and value bytes (map node, key record, array headers). */
    static final int ENTRY_OVERHEAD = 112;
    /** What the caches of this JVM may hold together: an eighth of the heap. */
    static final HeapBudget JVM_BUDGET = HeapBudget.eighthOfHeap();

    private final long capacity;
    private final HeapBudget budget;
    private final LinkedHashMap<KeyBytes, byte[]> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    /** Hashes of keys missed once while the cache was full, one per slot: the doorkeeper of {@link #admits}. */
    private int[] recentMisses;
    private long hits;
    private long misses;

    ReadCache(long capacity, HeapBudget budget) {
        if (capacity < 0) {
            throw new IllegalArgumentException("read cache of " + capacity + " bytes: must not be negative");
        }
        this.capacity = capacity;
        this.budget = budget;
    }

    /** The cached value, {@link #ABSENT} for a key known to have none, or null when not cached. */
    byte[] get(KeyBytes key) {
        if (capacity == 0) {
            return null;
        }
        byte[] v = entries.get(key);
        if (v == null) {
            misses++;
        } else {
            hits++;
        }
        return v;
    }

    /**
     * Whether a key just missed should be cached. While there is room, every key is; once the cache
     * is full, a key only on its second miss in a while: a working set larger than the cache (a big
     * map state read at random) would otherwise turn every read into an insert, an eviction and old
     * garbage for the collector, and slow reads down by half without a hit to show for it.
     */
    boolean admits(KeyBytes key) {
        if (capacity == 0) {
            return false;
        }
        if (bytes < capacity && !budget.exhausted()) {
            return true;
        }
        if (recentMisses == null) {
            recentMisses = new int[Math.max(1 << 10, Math.min(1 << 20, Integer.highestOneBit((int) Math.min(
                    Integer.MAX_VALUE, capacity / 256))))];
        }
        int h = key.hashCode();
        int slot = (h ^ (h >>> 16)) & (recentMisses.length - 1);
        if (recentMisses[slot] == h) {
            recentMisses[slot] = 0;
            return true;
        }
        recentMisses[slot] = h;
        return false;
    }

    /** Caches {@code value} ({@link #ABSENT} for none) as the key's value; the arrays are kept, not copied. */
    void put(KeyBytes key, byte[] value) {
        if (capacity == 0) {
            return;
        }
        byte[] old = entries.put(key, value);
        long added = old == null ? cost(key, value) : value.length - old.length;
        bytes += added;
        budget.add(added);
        evictBeyondLimits();
    }

    private void evictBeyondLimits() {
        Iterator<Map.Entry<KeyBytes, byte[]>> eldest = entries.entrySet().iterator();
        while ((bytes > capacity || budget.exhausted()) && eldest.hasNext()) {
            Map.Entry<KeyBytes, byte[]> e = eldest.next();
            long freed = cost(e.getKey(), e.getValue());
            eldest.remove();
            bytes -= freed;
            budget.add(-freed);
        }
    }

    /**
     * A write of the key: its cached value, if any, becomes {@code value} ({@link #ABSENT} for none).
     * Writes do not add keys: until flushed, the write buffer answers for them, and caching every
     * write would cost each a second map insert (and evictions) whether it is read again or not.
     */
    void update(KeyBytes key, byte[] value) {
        byte[] old = capacity == 0 ? null : entries.replace(key, value);
        if (old != null) {
            bytes += value.length - old.length;
            budget.add(value.length - old.length);
            evictBeyondLimits();
        }
    }

    /** Forgets the key: a write whose outcome is unknown (the store call failed) must not leave its old value here. */
    void remove(KeyBytes key) {
        byte[] old = capacity == 0 ? null : entries.remove(key);
        if (old != null) {
            long freed = cost(key, old);
            bytes -= freed;
            budget.add(-freed);
        }
    }

    /** Drops everything, giving its bytes back to the budget. */
    void clear() {
        entries.clear();
        budget.add(-bytes);
        bytes = 0;
    }

    long bytes() {
        return bytes;
    }

    long hits() {
        return hits;
    }

    long misses() {
        return misses;
    }

    /** Heap bytes an entry is counted for. */
    private static long cost(KeyBytes key, byte[] value) {
        return key.bytes().length + value.length + ENTRY_OVERHEAD;
    }
}
