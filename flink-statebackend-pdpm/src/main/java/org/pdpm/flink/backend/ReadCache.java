package org.pdpm.flink.backend;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.pdpm.core.api.KeyBytes;

/**
 * Values a task has read or written in its lineage, the least recently used dropped first. They
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
        byte[] v = capacity == 0 ? null : entries.get(key);
        if (v == null) {
            misses++;
        } else {
            hits++;
        }
        return v;
    }

    /** Caches {@code value} ({@link #ABSENT} for none) as the key's value; the arrays are kept, not copied. */
    void put(KeyBytes key, byte[] value) {
        if (capacity == 0) {
            return;
        }
        byte[] old = entries.put(key, value);
        long added = old == null ? key.bytes().length + value.length + ENTRY_OVERHEAD : value.length - old.length;
        bytes += added;
        budget.add(added);
        Iterator<Map.Entry<KeyBytes, byte[]>> eldest = entries.entrySet().iterator();
        while ((bytes > capacity || budget.exhausted()) && eldest.hasNext()) {
            Map.Entry<KeyBytes, byte[]> e = eldest.next();
            long freed = e.getKey().bytes().length + e.getValue().length + ENTRY_OVERHEAD;
            eldest.remove();
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
}
