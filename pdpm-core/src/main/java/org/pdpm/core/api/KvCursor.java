package org.pdpm.core.api;

import java.util.Iterator;

/** Entries of a prefix scan in key order; holds resources until closed. */
public interface KvCursor extends Iterator<KvEntry>, AutoCloseable {

    @Override
    void close();
}
