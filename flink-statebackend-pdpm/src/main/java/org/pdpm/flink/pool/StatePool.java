package org.pdpm.flink.pool;

import java.util.List;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataService;

/**
 * A pool of memory nodes as the backend sees it: lineages to create, fork and drop, epochs to pin,
 * and store clients that read and write in one lineage. One per process and configuration, shared
 * by every backend and by the {@code pdpm://} file system; {@link StatePools} hands them out.
 */
public interface StatePool {

    /** What {@code pdpm://} paths name this pool by: the metadata server's address, or the embedded pool's id. */
    String id();

    /** A new lineage that sees nothing yet. */
    int createLineage();

    /** A new lineage that sees what the pinned {@code (lineage, epoch)} sees, then its own writes. */
    int fork(int lineage, long epoch);

    /** Ends {@code lineage}: nothing written in it is visible any more but through its pins and forks. */
    void dropLineage(int lineage);

    void pin(int lineage, long epoch, String owner);

    void unpin(int lineage, long epoch, String owner);

    List<MetadataService.Pin> pins();

    /** A client that reads and writes in {@code lineage}, writing in {@code epoch} until it advances. */
    CloverStore open(int lineage, long epoch);
}
