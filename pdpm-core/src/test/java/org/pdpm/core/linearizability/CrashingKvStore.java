package org.pdpm.core.linearizability;

import org.pdpm.core.api.KvStore;

/**
 * A client handle that crashes on some writes — every fourth after applying it, every fourth before
 * — so the runner sees writes that threw yet may or may not have happened.
 */
final class CrashingKvStore extends ForwardingKvStore {

    private int writes;

    CrashingKvStore(KvStore shared) {
        super(shared);
    }

    @Override
    public synchronized void put(byte[] key, byte[] value) {
        crashBeforeWrite();
        delegate.put(key, value);
        crashAfterWrite();
    }

    @Override
    public synchronized void delete(byte[] key) {
        crashBeforeWrite();
        delegate.delete(key);
        crashAfterWrite();
    }

    private void crashBeforeWrite() {
        writes++;
        if (writes % 4 == 3) {
            throw new ClientCrashedException("crashed before write " + writes);
        }
    }

    private void crashAfterWrite() {
        if (writes % 4 == 1) {
            throw new ClientCrashedException("crashed after write " + writes);
        }
    }

    @Override
    public void close() {
        // A handle owns nothing: the shared store is closed by whoever opened it.
    }

    static final class ClientCrashedException extends RuntimeException {

        ClientCrashedException(String message) {
            super(message);
        }
    }
}
