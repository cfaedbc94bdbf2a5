package org.pdpm.core.linearizability;

import org.pdpm.core.api.KvStore;

/**
 * The clients of one store for one history. Stores with per-client state (Clover's cursors and
 * caches) hand each client its own handle on the shared data; simpler stores hand out one instance.
 */
public interface ClientFactory extends AutoCloseable {

    /** The handle client {@code clientId} uses; called once per client, before any client starts. */
    KvStore client(int clientId);

    /** Releases the handles and the store. */
    @Override
    void close();
}
