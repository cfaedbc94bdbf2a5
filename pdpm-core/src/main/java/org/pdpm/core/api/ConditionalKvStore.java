package org.pdpm.core.api;

/**
 * A store that can also write a key only when it has no value: the one atomic primitive that
 * lets many processes share a catalog in the store without a server (lineage ids, say).
 */
public interface ConditionalKvStore extends KvStore {

    /**
     * Sets {@code key} to {@code value} when it has none, atomically with respect to every other
     * operation on the key (linearizable); durable once this returns. True when it wrote.
     */
    boolean putIfAbsent(byte[] key, byte[] value);
}
