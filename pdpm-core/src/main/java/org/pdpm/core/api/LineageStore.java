package org.pdpm.core.api;

/**
 * A store client that reads and writes in one lineage of its pool ({@link Lineages}), writing in
 * its current epoch until that advances. Reads see the lineage's own writes, then what its
 * ancestors held where it forked from them.
 */
public interface LineageStore extends KvStore {

    /** The lineage this client reads and writes in. */
    int lineage();

    /** The epoch new writes belong to. */
    long epoch();

    /**
     * Writes from now on belong to {@code next}. Pin the epoch being ended first when it must stay
     * readable: what an unpinned epoch held and a later one overwrites is garbage.
     */
    void advanceEpoch(long next);

    /**
     * The store as the pinned point {@code (lineage, epoch)} sees it; it stays readable while the
     * pin is held, whatever is written afterwards.
     */
    KvSnapshot asOf(int lineage, long epoch);
}
