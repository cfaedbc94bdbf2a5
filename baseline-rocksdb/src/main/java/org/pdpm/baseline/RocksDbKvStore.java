package org.pdpm.baseline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pdpm.core.api.KeyOrder;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.StoreUnavailableException;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Statistics;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link KvStore} interface on a local RocksDB (the JNI build Flink ships), the baseline the
 * pDPM stores are measured against. Writes go through a WAL synced on every put, delete and batch
 * by default, so an acknowledged write survives a machine crash as a replicated pDPM write does.
 * RocksDB's bytewise comparator is the unsigned order of {@link KeyOrder}, so scans need no
 * comparator of their own; a scan seeks to its prefix and stops at {@link KeyOrder#prefixEnd}.
 *
 * <p>Every operation holds a shared lock while it uses native handles and {@link #close()} takes
 * it exclusively, because a RocksDB handle used after it is freed crashes the JVM rather than
 * throwing.
 */
public final class RocksDbKvStore implements KvStore {

    /** 1 KiB keys and 1 MiB values: roomy for Flink's serialized keys and state values. */
    public static final KvLimits DEFAULT_LIMITS = new KvLimits(1024, 1 << 20);

    private static final Logger LOG = LoggerFactory.getLogger(RocksDbKvStore.class);

    private final Path path;
    private final KvLimits limits;
    private final Options options;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Set<Cursor> openCursors = ConcurrentHashMap.newKeySet();
    private final LongAdder gets = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private boolean closed;

    private RocksDbKvStore(Path path, KvLimits limits, Options options, WriteOptions writeOptions, RocksDB db) {
        this.path = path;
        this.limits = limits;
        this.options = options;
        this.writeOptions = writeOptions;
        this.db = db;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Path path;
        private KvLimits limits = DEFAULT_LIMITS;
        private boolean syncWrites = true;
        private Statistics statistics;

        private Builder() {
        }

        /** The directory of the database; created if missing, reopened with its data if not. */
        public Builder path(Path path) {
            this.path = Objects.requireNonNull(path, "path");
            return this;
        }

        public Builder limits(KvLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Whether each write waits for the WAL to reach the disk (the default). Without it a write
         * survives a process crash but not a machine crash, which is not what pDPM is compared on.
         */
        public Builder syncWrites(boolean syncWrites) {
            this.syncWrites = syncWrites;
            return this;
        }

        /** RocksDB's own counters to fill, for benchmarks and tests; the caller keeps and closes it. */
        public Builder statistics(Statistics statistics) {
            this.statistics = Objects.requireNonNull(statistics, "statistics");
            return this;
        }

        /**
         * Opens the database.
         *
         * @throws IllegalArgumentException when the path is not a directory that can be created
         * @throws StoreUnavailableException when RocksDB cannot open it (another store holds its
         *     lock, or its files are unreadable); the message names the path
         */
        public RocksDbKvStore open() {
            if (path == null) {
                throw new IllegalStateException("path must be set before open()");
            }
            try {
                Files.createDirectories(path);
            } catch (IOException e) {
                throw new IllegalArgumentException("path=" + path + " is not a directory that can be created: " + e, e);
            }
            RocksDB.loadLibrary();
            Options options = new Options().setCreateIfMissing(true);
            if (statistics != null) {
                options.setStatistics(statistics);
            }
            WriteOptions writeOptions = new WriteOptions().setSync(syncWrites);
            try {
                RocksDB db = RocksDB.open(options, path.toString());
                LOG.info("Opened RocksDB store at {} (syncWrites={}, {})", path, syncWrites, limits);
                return new RocksDbKvStore(path, limits, options, writeOptions, db);
            } catch (RocksDBException e) {
                writeOptions.close();
                options.close();
                throw new StoreUnavailableException("RocksDB at path=" + path + " could not be opened: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public byte[] get(byte[] key) {
        limits.checkKey(key);
        lockOpen();
        try {
            gets.increment();
            return db.get(key);
        } catch (RocksDBException e) {
            throw failed("get", e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        limits.checkKey(key);
        limits.checkValue(value);
        lockOpen();
        try {
            puts.increment();
            db.put(writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failed("put", e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void delete(byte[] key) {
        limits.checkKey(key);
        lockOpen();
        try {
            deletes.increment();
            db.delete(writeOptions, key);
        } catch (RocksDBException e) {
            throw failed("delete", e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** One MultiGet: RocksDB looks the keys up together and reads each block once. */
    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        for (byte[] k : keys) {
            limits.checkKey(k);
        }
        if (keys.isEmpty()) {
            return new ArrayList<>();
        }
        lockOpen();
        try {
            gets.add(keys.size());
            return db.multiGetAsList(keys);
        } catch (RocksDBException e) {
            throw failed("getAll", e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** One WriteBatch with one WAL sync, so the batch is in fact atomic here (the interface does not promise it). */
    @Override
    public void putAll(List<KvEntry> entries) {
        for (KvEntry e : entries) {
            limits.checkKey(e.key());
            if (e.value() != null) {
                limits.checkValue(e.value());
            }
        }
        if (entries.isEmpty()) {
            return;
        }
        lockOpen();
        try (WriteBatch batch = new WriteBatch()) {
            long batchPuts = 0;
            for (KvEntry e : entries) {
                if (e.value() == null) {
                    batch.delete(e.key());
                } else {
                    batch.put(e.key(), e.value());
                    batchPuts++;
                }
            }
            puts.add(batchPuts);
            deletes.add(entries.size() - batchPuts);
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw failed("putAll", e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public KvCursor scan(byte[] prefix) {
        limits.checkPrefix(prefix);
        lockOpen();
        try {
            Cursor cursor = new Cursor(prefix);
            openCursors.add(cursor);
            return cursor;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public KvLimits limits() {
        return limits;
    }

    /** Round trips, verbs and fabric bytes are -1: RocksDB is not on the fabric. */
    @Override
    public KvStats stats() {
        return new KvStats(gets.sum(), puts.sum(), deletes.sum(), -1, -1, -1, -1, -1);
    }

    /** Closes open cursors, then the database and its options; closing again does nothing. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Cursor c : openCursors) {
                c.release();
            }
            openCursors.clear();
            try {
                db.closeE();
            } catch (RocksDBException e) {
                LOG.warn("Closing RocksDB at {} reported an error; its WAL holds every synced write", path, e);
            }
            writeOptions.close();
            options.close();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "RocksDbKvStore{path=" + path + ", limits=" + limits + "}";
    }

    /** Takes the shared lock on an open store; the caller unlocks it. */
    private void lockOpen() {
        lifecycle.readLock().lock();
        if (closed) {
            lifecycle.readLock().unlock();
            throw new IllegalStateException("RocksDB store at path=" + path + " is closed");
        }
    }

    private StoreUnavailableException failed(String operation, RocksDBException e) {
        return new StoreUnavailableException("RocksDB at path=" + path + " failed " + operation + ": " + e.getMessage(), e);
    }

    /**
     * An iterator over [prefix, prefixEnd). The upper bound is given to RocksDB, not checked here,
     * so the iterator never even surfaces the first key past the range. The iterator reads from the
     * implicit snapshot taken when it was created.
     */
    private final class Cursor implements KvCursor {
        private final ReadOptions readOptions = new ReadOptions();
        private final Slice upperBound;
        private final RocksIterator iterator;
        private boolean released;

        Cursor(byte[] prefix) {
            byte[] end = KeyOrder.prefixEnd(prefix);
            upperBound = end == null ? null : new Slice(end);
            if (upperBound != null) {
                readOptions.setIterateUpperBound(upperBound);
            }
            iterator = db.newIterator(readOptions);
            iterator.seek(prefix);
        }

        @Override
        public boolean hasNext() {
            lockOpen();
            try {
                synchronized (this) {
                    if (released) {
                        return false;
                    }
                    if (iterator.isValid()) {
                        return true;
                    }
                    checkStatus();
                    closeCursor();
                    return false;
                }
            } finally {
                lifecycle.readLock().unlock();
            }
        }

        @Override
        public KvEntry next() {
            lockOpen();
            try {
                synchronized (this) {
                    if (released || !iterator.isValid()) {
                        throw new NoSuchElementException("scan of path=" + path + " has no more entries");
                    }
                    KvEntry entry = new KvEntry(iterator.key(), iterator.value());
                    iterator.next();
                    return entry;
                }
            } finally {
                lifecycle.readLock().unlock();
            }
        }

        /** An invalid iterator is either at the end or failed; only status() tells which. */
        private void checkStatus() {
            try {
                iterator.status();
            } catch (RocksDBException e) {
                throw failed("scan", e);
            }
        }

        @Override
        public void close() {
            lifecycle.readLock().lock();
            try {
                closeCursor();
            } finally {
                lifecycle.readLock().unlock();
            }
        }

        private void closeCursor() {
            if (openCursors.remove(this)) {
                release();
            }
        }

        /** Frees the native handles; the store's close calls it for cursors left open. */
        synchronized void release() {
            if (released) {
                return;
            }
            released = true;
            iterator.close();
            readOptions.close();
            if (upperBound != null) {
                upperBound.close();
            }
        }
    }
}
