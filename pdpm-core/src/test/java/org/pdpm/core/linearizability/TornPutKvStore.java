package org.pdpm.core.linearizability;

import java.util.concurrent.locks.LockSupport;
import org.pdpm.core.api.KvStore;

/**
 * A put that is not atomic with respect to reads: it removes the old value, pauses, then writes the
 * new one, so a reader in between finds the key absent although it never was — the bug of an
 * in-place overwrite that clears before it writes.
 */
final class TornPutKvStore extends ForwardingKvStore {

    private static final long GAP_NANOS = 50_000;

    TornPutKvStore(KvStore delegate) {
        super(delegate);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        delegate.delete(key);
        LockSupport.parkNanos(GAP_NANOS);
        delegate.put(key, value);
    }
}
