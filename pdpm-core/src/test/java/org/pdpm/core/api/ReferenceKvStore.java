package org.pdpm.core.api;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * An obviously correct in-memory {@link KvStore}: one lock around a sorted map. Tests use it as the
 * sequential model the real stores are compared with, and {@link ReferenceKvStoreContractTest} runs
 * the contract on it to show that the contract asks only for what a correct store does.
 */
public final class ReferenceKvStore implements KvStore {

    /** Shared with the stores {@link #reopen()} hands out, as a disk is shared across restarts. */
    private final NavigableMap<byte[], byte[]> data;
    private final KvLimits limits;
    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private volatile boolean closed;

    public ReferenceKvStore(KvLimits limits) {
        this(new TreeMap<>(KeyOrder.UNSIGNED), limits);
    }

    private ReferenceKvStore(NavigableMap<byte[], byte[]> data, KvLimits limits) {
        this.data = data;
        this.limits = limits;
    }

    /** Closes this store and opens a new one on the same data, with fresh counters. */
    public ReferenceKvStore reopen() {
        close();
        return new ReferenceKvStore(data, limits);
    }

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        synchronized (data) {
            checkOpen();
            gets.increment();
            byte[] v = data.get(key);
            return v == null ? null : v.clone();
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        synchronized (data) {
            checkOpen();
            puts.increment();
            data.put(key.clone(), value.clone());
        }
    }

    @Override
    public void delete(byte[] key) {
        limits.checkKey(key);
        synchronized (data) {
            checkOpen();
            deletes.increment();
            data.remove(key);
        }
    }

    /** Copies the matching entries up front: the cursor then sees exactly what was committed at the call. */
    @Override
    public KvCursor scan(byte[] prefix) {
        limits.checkPrefix(prefix);
        List<KvEntry> matches = new ArrayList<>();
        synchronized (data) {
            checkOpen();
            byte[] end = KeyOrder.prefixEnd(prefix);
            NavigableMap<byte[], byte[]> range = end == null ? data.tailMap(prefix, true) : data.subMap(prefix, true, end, false);
            for (Map.Entry<byte[], byte[]> e : range.entrySet()) {
                matches.add(new KvEntry(e.getKey().clone(), e.getValue().clone()));
            }
        }
        Iterator<KvEntry> it = matches.iterator();
        return new KvCursor() {
            private boolean cursorClosed;

            @Override
            public boolean hasNext() {
                return !cursorClosed && it.hasNext();
            }

            @Override
            public KvEntry next() {
                if (cursorClosed) {
                    throw new IllegalStateException("cursor is closed");
                }
                return it.next();
            }

            @Override
            public void close() {
                cursorClosed = true;
            }
        };
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    /** Round trips, verbs and bytes are -1: this store is not on the fabric. */
    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), -1, -1, -1, -1, -1);
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("store is closed");
        }
    }
}
