package org.pdpm.core.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A key-value store on passive memory (Clover, pDPM-Direct, pDPM-Central) or the RocksDB baseline.
 * Keys and values are byte arrays within {@link #limits()}. Every store guarantees:
 * <ul>
 *   <li><b>read committed</b>: a reader never sees an uncommitted or torn value;</li>
 *   <li><b>atomic writes</b>: a writer that dies mid-write leaves the old value or the new one;</li>
 *   <li><b>durability</b>: a write acknowledged by a return from {@link #put} or {@link #delete}
 *       survives as the store's replication allows (R memory nodes, or RocksDB's synced WAL).</li>
 * </ul>
 * Single-key operations are linearizable. Batched forms are a convenience for throughput: each key
 * in them is atomic on its own, the batch as a whole is not. Implementations are thread-safe.
 */
public interface KvStore extends AutoCloseable {

    /** The value of {@code key}, or null when it has none. */
    byte[] get(byte[] key);

    /** Sets {@code key} to {@code value}; durable once this returns. */
    void put(byte[] key, byte[] value);

    /** Removes {@code key}; durable once this returns. Removing an absent key is not an error. */
    void delete(byte[] key);

    /**
     * The value of {@code key} (null when absent), without waiting: a store that can keep many
     * reads in flight from one thread answers when the memory node does. By default it runs
     * {@link #get} on the calling thread. A read issued before a write of the same thread may see
     * the value from before or after it.
     */
    default CompletableFuture<byte[]> getAsync(byte[] key) {
        try {
            return CompletableFuture.completedFuture(get(key));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The values of {@code keys}, in order, null for absent keys. Stores overlap the round trips. */
    default List<byte[]> getAll(List<byte[]> keys) {
        List<byte[]> out = new ArrayList<>(keys.size());
        for (byte[] k : keys) {
            out.add(get(k));
        }
        return out;
    }

    /** Applies every entry (a null value deletes); each key atomically, in no promised order. */
    default void putAll(List<KvEntry> entries) {
        for (KvEntry e : entries) {
            if (e.value() == null) {
                delete(e.key());
            } else {
                put(e.key(), e.value());
            }
        }
    }

    /**
     * The entries whose keys start with {@code prefix}, in unsigned lexicographic key order. The
     * cost follows the number of matching keys, not the size of the store. The cursor sees every
     * key committed before the call and not deleted before it is reached; keys written meanwhile
     * may or may not appear. Close it when done.
     */
    KvCursor scan(byte[] prefix);

    /** The store's bounds on key and value sizes. */
    KvLimits limits();

    /** What the store has done so far: operations, round trips, bytes. */
    KvStats stats();

    /** Releases the store's connections and threads; the data stays where it is. Closing twice is harmless. */
    @Override
    void close();
}
