package org.pdpm.core.central;

import java.util.ArrayDeque;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.FabricException;

/**
 * A pDPM-Central client: every operation is one request to the coordinator, which alone touches
 * the memory nodes. The coordinator is a {@link Coordinator} in this JVM (tests, local benchmarks)
 * or a {@code RemoteCoordinator} over TCP; the client does not know which.
 *
 * <p>Round trips in {@link #stats()}: each request counts one (the RPC, DESIGN §2) plus the round
 * trips the coordinator waited for on its behalf, which every answer carries; verbs and bytes are
 * the coordinator's verbs for this client's requests. So a GET costs 2 and a PUT 3, as in DESIGN
 * §3's table; a GET or DELETE of an absent key costs only the RPC.
 *
 * <p>Thread-safe; it holds no state of its own besides counters, so any number of clients may
 * share one coordinator. Closing the client leaves the coordinator (and its connection) to whoever
 * opened it.
 */
public final class CentralStore implements ConditionalKvStore {

    private final CoordinatorService coordinator;
    private final KvLimits limits;
    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final LongAdder getRoundTrips = new LongAdder();
    private final LongAdder putRoundTrips = new LongAdder();
    private final LongAdder deleteRoundTrips = new LongAdder();
    private final LongAdder verbs = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private volatile boolean closed;

    private CentralStore(CoordinatorService coordinator, KvLimits limits) {
        this.coordinator = coordinator;
        this.limits = limits;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link CentralStore}. */
    public static final class Builder {
        private CoordinatorService coordinator;

        private Builder() {}

        /** The coordinator: a {@link Coordinator} in this JVM, or a {@code RemoteCoordinator}. */
        public Builder coordinator(CoordinatorService coordinator) {
            this.coordinator = coordinator;
            return this;
        }

        /** Asks the coordinator for the pool's bounds (one request) and returns the client. */
        public CentralStore open() {
            Objects.requireNonNull(coordinator, "coordinator");
            CoordinatorService.Info info = call(coordinator::info, "learn the pool's bounds");
            return new CentralStore(coordinator, info.limits());
        }
    }

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        checkOpen();
        CoordinatorService.Read r = call(() -> coordinator.get(key), "get a key");
        gets.increment();
        count(getRoundTrips, r.cost());
        return r.value();
    }

    @Override
    public void put(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        checkOpen();
        CoordinatorService.Cost c = call(() -> coordinator.put(key, value), "put a key");
        puts.increment();
        count(putRoundTrips, c);
    }

    @Override
    public void delete(byte[] key) {
        limits.checkKey(key);
        checkOpen();
        CoordinatorService.Cost c = call(() -> coordinator.delete(key), "delete a key");
        deletes.increment();
        count(deleteRoundTrips, c);
    }

    /** One request; the coordinator checks and writes under the key's lock. */
    @Override
    public boolean putIfAbsent(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        checkOpen();
        CoordinatorService.Written w = call(() -> coordinator.putIfAbsent(key, value), "put an absent key");
        puts.increment();
        count(putRoundTrips, w.cost());
        return w.written();
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        for (byte[] k : keys) {
            limits.checkKey(k);
        }
        return ConditionalKvStore.super.getAll(keys);
    }

    @Override
    public void putAll(List<KvEntry> entries) {
        for (KvEntry e : entries) {
            limits.checkKey(e.key());
            if (e.value() != null) {
                limits.checkValue(e.value());
            }
        }
        ConditionalKvStore.super.putAll(entries);
    }

    private void count(LongAdder roundTrips, CoordinatorService.Cost c) {
        roundTrips.add(1 + c.roundTrips());
        verbs.add(c.verbs());
        bytes.add(c.bytes());
    }

    @Override
    public KvCursor scan(byte[] prefix) {
        limits.checkPrefix(prefix);
        checkOpen();
        return new Cursor(prefix.clone());
    }

    /** Pages through the coordinator's ordered index, {@link CoordinatorService#MAX_SCAN_LIMIT} keys at a time. */
    private final class Cursor implements KvCursor {
        private final byte[] prefix;
        private final ArrayDeque<KvEntry> ready = new ArrayDeque<>();
        private byte[] after;
        private boolean exhausted;

        Cursor(byte[] prefix) {
            this.prefix = prefix;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && !exhausted) {
                CoordinatorService.Page page = call(
                        () -> coordinator.scan(prefix, after, CoordinatorService.MAX_SCAN_LIMIT), "scan keys");
                verbs.add(page.cost().verbs());
                bytes.add(page.cost().bytes());
                ready.addAll(page.entries());
                if (!page.entries().isEmpty()) {
                    after = page.entries().get(page.entries().size() - 1).key();
                }
                exhausted = !page.more();
            }
            return !ready.isEmpty();
        }

        @Override
        public KvEntry next() {
            if (!hasNext()) {
                throw new NoSuchElementException("scan of prefix has no more entries");
            }
            return ready.poll();
        }

        @Override
        public void close() {
            exhausted = true;
            ready.clear();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this Central client is closed");
        }
    }

    /** A fabric fault escaping the coordinator is its memory nodes failing: unavailable, as the RPC reports it. */
    private static <T> T call(Supplier<T> request, String what) {
        try {
            return request.get();
        } catch (FabricException e) {
            throw new StoreUnavailableException("the coordinator could not " + what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), getRoundTrips.sum(), putRoundTrips.sum(),
                deleteRoundTrips.sum(), verbs.sum(), bytes.sum());
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "CentralStore[" + coordinator + "]";
    }
}
