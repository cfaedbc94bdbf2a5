package org.pdpm.flink.pool;

import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.Lineages;

/**
 * A pool of memory nodes as the backend sees it: lineages to create, fork and drop, epochs to pin,
 * and store clients that read and write in one lineage. One per process and configuration, shared
 * by every backend and by the {@code pdpm://} file system; {@link StatePools} hands them out.
 */
public interface StatePool extends Lineages {

    /** What {@code pdpm://} paths name this pool by: the metadata server's address, or the embedded pool's id. */
    String id();

    /** A client that reads and writes in {@code lineage}, writing in {@code epoch} until it advances. */
    LineageStore open(int lineage, long epoch);
}
