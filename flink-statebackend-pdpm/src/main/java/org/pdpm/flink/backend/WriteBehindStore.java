package org.pdpm.flink.backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.pdpm.core.api.KeyBytes;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's writes to one lineage, buffered and written to the store behind the task's back.
 *
 * <p>Why this is safe for Flink state: a task's writes only have to be durable at a checkpoint.
 * After a failure Flink restores the last checkpoint, which forks a new lineage at the pinned epoch,
 * so whatever the task wrote after that checkpoint is never read again, written to the store or not.
 * RocksDB's backend relies on the same fact (Flink turns its write-ahead log off). So writes go into
 * an in-memory buffer, overwrites of one key coalesce there, and once the buffer holds
 * {@code bufferBytes} it is handed to a background thread that writes it while the task fills the
 * next one. A checkpoint ({@link #advanceEpoch}), a scan, or a full buffer while the previous one
 * is still being written, waits until everything buffered is in the store.
 * What a checkpoint or a scan waits for is written by its own thread and a writer thread together.
 *
 * <p>All buffers of one JVM together hold at most {@link #JVM_BUDGET} (an eighth of the
 * heap): past it, a buffer is handed over whatever its size, so many busy backends in one
 * TaskManager slow down towards write-through instead of running out of heap.
 *
 * <p>Reads look in the buffers first, then in a {@link ReadCache} of what the task read before
 * (writes keep it up to date). A failed background write fails every later call with the
 * store's own exception type, so the task fails and restores; nothing the last checkpoint holds
 * is touched. With {@code bufferBytes} 0 every write goes straight to the store.
 */
final class WriteBehindStore implements LineageStore {

    private static final Logger LOG = LoggerFactory.getLogger(WriteBehindStore.class);

    /** Stands for a buffered delete; compared by identity, so an empty value is still a value. */
    private static final byte[] DELETED = new byte[0];
    /** Heap a buffered entry costs beyond its key and value bytes (map node, record, array headers). */
    private static final int ENTRY_OVERHEAD = 96;
    private static final long CLOSE_WAIT_SECONDS = 30;
    /** A waited-for batch at least this long is written by two threads. */
    static final int SPLIT_ENTRIES = 4_096;
    /** What the buffers of this JVM may hold together: an eighth of the heap. */
    static final HeapBudget JVM_BUDGET = HeapBudget.eighthOfHeap();

    private static final ExecutorService WRITERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pdpm-write-behind");
        t.setDaemon(true);
        return t;
    });

    private final LineageStore store;
    private final long bufferBytes;
    private final HeapBudget budget;
    private final ReadCache cache;
    private HashMap<KeyBytes, byte[]> filling = new HashMap<>();
    private long fillingBytes;
    /** The buffer being written by a background thread, read-only meanwhile; null when none. */
    private Map<KeyBytes, byte[]> writing;
    private CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
    private RuntimeException failure;

    WriteBehindStore(LineageStore store, long bufferBytes, long cacheBytes) {
        this(store, bufferBytes, JVM_BUDGET, new ReadCache(cacheBytes, ReadCache.JVM_BUDGET));
    }

    WriteBehindStore(LineageStore store, long bufferBytes, HeapBudget budget, ReadCache cache) {
        if (bufferBytes < 0) {
            throw new IllegalArgumentException("write buffer of " + bufferBytes + " bytes: must not be negative");
        }
        this.store = store;
        this.bufferBytes = bufferBytes;
        this.budget = budget;
        this.cache = cache;
    }

    /** The store client underneath. */
    LineageStore store() {
        return store;
    }

    @Override
    public synchronized byte[] get(byte[] key) {
        checkHealthy();
        KeyBytes k = new KeyBytes(key);
        byte[] known = known(k);
        if (known != null) {
            return known == DELETED || known == ReadCache.ABSENT ? null : known;
        }
        byte[] read = store.get(key);
        remember(k, read);
        return read;
    }

    @Override
    public synchronized List<byte[]> getAll(List<byte[]> keys) {
        checkHealthy();
        List<byte[]> out = new ArrayList<>(keys.size());
        List<byte[]> missing = new ArrayList<>();
        List<Integer> missingAt = new ArrayList<>();
        for (byte[] key : keys) {
            byte[] known = known(new KeyBytes(key));
            if (known == null) {
                missingAt.add(out.size());
                missing.add(key);
            }
            out.add(known == DELETED || known == ReadCache.ABSENT ? null : known);
        }
        if (!missing.isEmpty()) {
            List<byte[]> read = store.getAll(missing);
            for (int i = 0; i < read.size(); i++) {
                out.set(missingAt.get(i), read.get(i));
                remember(new KeyBytes(missing.get(i)), read.get(i));
            }
        }
        return out;
    }

    @Override
    public synchronized void put(byte[] key, byte[] value) {
        store.limits().checkKey(key);
        store.limits().checkValue(value);
        buffer(key, value);
    }

    @Override
    public synchronized void delete(byte[] key) {
        store.limits().checkKey(key);
        buffer(key, DELETED);
    }

    @Override
    public synchronized void putAll(List<KvEntry> entries) {
        for (KvEntry e : entries) {
            store.limits().checkKey(e.key());
            if (e.value() != null) {
                store.limits().checkValue(e.value());
            }
        }
        for (KvEntry e : entries) {
            buffer(e.key(), e.value() == null ? DELETED : e.value());
        }
    }

    /** Scans see everything written so far: the buffers go to the store first. */
    @Override
    public synchronized KvCursor scan(byte[] prefix) {
        flush();
        return store.scan(prefix);
    }

    /** Ends the epoch once everything written in it is in the store, so that a pin of it holds it all. */
    @Override
    public synchronized void advanceEpoch(long next) {
        flush();
        store.advanceEpoch(next);
    }

    /** Writes everything buffered to the store and returns when it is there. */
    synchronized void flush() {
        checkHealthy();
        awaitWriting();
        if (!filling.isEmpty()) {
            Map<KeyBytes, byte[]> batch = filling;
            long bytes = fillingBytes;
            filling = new HashMap<>();
            fillingBytes = 0;
            try {
                writeOnTwoThreads(batch);
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            } finally {
                budget.add(-bytes);
            }
        }
    }

    @Override
    public KvSnapshot asOf(int lineage, long epoch) {
        return store.asOf(lineage, epoch);
    }

    @Override
    public int lineage() {
        return store.lineage();
    }

    @Override
    public long epoch() {
        return store.epoch();
    }

    @Override
    public KvLimits limits() {
        return store.limits();
    }

    /** The store's own figures: buffered writes count when they reach it. */
    @Override
    public KvStats stats() {
        return store.stats();
    }

    /**
     * Waits for a background write in progress, then closes the store client. What is still
     * buffered is dropped: it was written after the last checkpoint, so no restore can see it.
     */
    @Override
    public synchronized void close() {
        try {
            written.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("closing lineage {}'s store client while its buffered writes failed or hang", store.lineage(), e);
        }
        budget.add(-fillingBytes);
        filling = new HashMap<>();
        fillingBytes = 0;
        writing = null;
        cache.clear();
        store.close();
    }

    /** What this task last wrote or read for the key (DELETED or ABSENT for none), or null when it does not know. */
    private byte[] known(KeyBytes key) {
        byte[] v = filling.get(key);
        if (v == null && writing != null) {
            v = writing.get(key);
        }
        return v != null ? v : cache.get(key);
    }

    /** Offers what the store answered for the key to the read cache (copying the key, which the caller may reuse). */
    private void remember(KeyBytes key, byte[] read) {
        if (cache.admits(key)) {
            cache.put(new KeyBytes(key.bytes().clone()), read == null ? ReadCache.ABSENT : read);
        }
    }

    /** The read cache's hits and misses so far (lookups the buffers answered count as neither). */
    synchronized long[] cacheHitsAndMisses() {
        return new long[] {cache.hits(), cache.misses()};
    }

    private void buffer(byte[] key, byte[] value) {
        checkHealthy();
        if (bufferBytes == 0) {
            KeyBytes k = new KeyBytes(key);
            cache.remove(k);   // until the store answers, the old value may or may not be the key's
            if (value == DELETED) {
                store.delete(key);
            } else {
                store.put(key, value);
            }
            return;
        }
        // Copies: the caller may reuse its arrays once this returns.
        KeyBytes k = new KeyBytes(key.clone());
        byte[] kept = value == DELETED ? DELETED : value.clone();
        cache.update(k, kept == DELETED ? ReadCache.ABSENT : kept);
        byte[] old = filling.put(k, kept);
        long added = old == null ? key.length + value.length + ENTRY_OVERHEAD : value.length - old.length;
        fillingBytes += added;
        boolean jvmFull = budget.add(added);
        if (fillingBytes >= bufferBytes || jvmFull) {
            handOver();
        }
    }

    /** Gives the full buffer to a background writer, after the previous one is written. */
    private void handOver() {
        awaitWriting();
        Map<KeyBytes, byte[]> batch = filling;
        long bytes = fillingBytes;
        filling = new HashMap<>();
        fillingBytes = 0;
        writing = batch;
        written = CompletableFuture.runAsync(() -> {
            try {
                write(batch);
            } finally {
                budget.add(-bytes);
            }
        }, WRITERS);
    }

    private void awaitWriting() {
        try {
            written.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while lineage " + store.lineage()
                    + "'s buffered writes were being written");
        } catch (ExecutionException e) {
            failure = asRuntime(e.getCause());
            throw failure;
        } finally {
            if (written.isDone()) {
                writing = null;
            }
        }
    }

    private void write(Map<KeyBytes, byte[]> batch) {
        store.putAll(entries(batch));
    }

    /**
     * Writes a batch the caller waits for (a checkpoint, a scan) on this thread and a writer thread
     * at once: its keys are distinct, so the halves are independent. Returns when both are written.
     */
    private void writeOnTwoThreads(Map<KeyBytes, byte[]> batch) {
        List<KvEntry> entries = entries(batch);
        if (entries.size() < SPLIT_ENTRIES) {
            store.putAll(entries);
            return;
        }
        int half = entries.size() / 2;
        CompletableFuture<Void> other = CompletableFuture.runAsync(
                () -> store.putAll(entries.subList(half, entries.size())), WRITERS);
        RuntimeException failed = null;
        try {
            store.putAll(entries.subList(0, half));
        } catch (RuntimeException e) {
            failed = e;
        }
        try {
            other.join();
        } catch (CompletionException e) {
            RuntimeException cause = asRuntime(e.getCause());
            if (failed == null) {
                failed = cause;
            } else {
                failed.addSuppressed(cause);
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    private static List<KvEntry> entries(Map<KeyBytes, byte[]> batch) {
        List<KvEntry> entries = new ArrayList<>(batch.size());
        batch.forEach((k, v) -> entries.add(new KvEntry(k.bytes(), v == DELETED ? null : v)));
        return entries;
    }

    private void checkHealthy() {
        if (failure != null) {
            throw rethrown(failure);
        }
    }

    /** The earlier failure again, as the same kind of exception, so that callers can tell a full pool. */
    private RuntimeException rethrown(RuntimeException cause) {
        String message = "an earlier write of lineage " + store.lineage() + " failed (" + cause.getMessage()
                + "); the task must restore from its last checkpoint";
        RuntimeException again;
        if (cause instanceof SpaceExhaustedException) {
            again = new SpaceExhaustedException(message);
        } else if (cause instanceof StoreUnavailableException) {
            again = new StoreUnavailableException(message);
        } else {
            again = new IllegalStateException(message);
        }
        again.initCause(cause);
        return again;
    }

    private static RuntimeException asRuntime(Throwable t) {
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }

    @Override
    public String toString() {
        return "write-behind (" + bufferBytes + " bytes) over " + store;
    }
}
