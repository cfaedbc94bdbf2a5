package org.pdpm.core.lineage;

import java.util.List;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;

/**
 * A client that stops for good after its {@code n}-th operation once armed, as a process killed
 * right after that operation would: the operation took effect, nothing after it does.
 */
final class StoppingStore implements ConditionalKvStore {

    static final class Stopped extends RuntimeException {
        Stopped(int after) {
            super("stopped after operation " + after);
        }
    }

    private final ConditionalKvStore delegate;
    private int remaining = -1;
    private int done;

    StoppingStore(ConditionalKvStore delegate) {
        this.delegate = delegate;
    }

    /** From now on, {@code operations} more operations run; every later one throws {@link Stopped}. */
    synchronized void arm(int operations) {
        remaining = operations;
        done = 0;
    }

    private synchronized void next() {
        if (remaining == 0) {
            throw new Stopped(done);
        }
        if (remaining > 0) {
            remaining--;
            done++;
        }
    }

    @Override
    public byte[] get(byte[] key) {
        next();
        return delegate.get(key);
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        next();
        return delegate.getAll(keys);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        next();
        delegate.put(key, value);
    }

    @Override
    public boolean putIfAbsent(byte[] key, byte[] value) {
        next();
        return delegate.putIfAbsent(key, value);
    }

    @Override
    public void delete(byte[] key) {
        next();
        delegate.delete(key);
    }

    @Override
    public KvCursor scan(byte[] prefix) {
        next();
        return delegate.scan(prefix);
    }

    @Override
    public KvLimits limits() {
        return delegate.limits();
    }

    @Override
    public KvStats stats() {
        return delegate.stats();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
