package org.pdpm.core.linearizability;

import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;

/** A store that passes every call to another; faulty stores override the calls they break. */
abstract class ForwardingKvStore implements KvStore {

    protected final KvStore delegate;

    ForwardingKvStore(KvStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public byte[] get(byte[] key) {
        return delegate.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        delegate.put(key, value);
    }

    @Override
    public void delete(byte[] key) {
        delegate.delete(key);
    }

    @Override
    public KvCursor scan(byte[] prefix) {
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
