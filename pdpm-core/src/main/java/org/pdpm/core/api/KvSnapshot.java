package org.pdpm.core.api;

/**
 * A read-only view of a store as of a pinned point (a lineage and an epoch): what was committed in
 * that lineage up to that epoch, and in its ancestors up to where it forked. It stays readable
 * while the point is pinned, whatever is written afterwards.
 */
public interface KvSnapshot {

    /** The value {@code key} had at this point, or null. */
    byte[] get(byte[] key);

    /** The entries whose keys start with {@code prefix} at this point, in unsigned key order. */
    KvCursor scan(byte[] prefix);
}
