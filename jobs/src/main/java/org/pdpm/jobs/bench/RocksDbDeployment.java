package org.pdpm.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pdpm.baseline.RocksDbKvStore;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStore;

/**
 * The RocksDB baseline for a benchmark run: one database in a fresh temporary directory, every
 * write synced to its WAL (the durability pDPM's replicated writes are compared with), shared by
 * all threads as one process's state would be. It runs off any fabric, so its output says
 * {@code "fabric":"none"} whatever {@code --fabric} was.
 */
final class RocksDbDeployment implements StoreDeployment {

    private final Path directory;
    private final RocksDbKvStore store;

    private RocksDbDeployment(Path directory, RocksDbKvStore store) {
        this.directory = directory;
        this.store = store;
    }

    static RocksDbDeployment start(Plan plan) throws IOException {
        Path directory = Files.createTempDirectory("pdpm-bench-rocksdb-");
        try {
            RocksDbKvStore store = RocksDbKvStore.builder().path(directory)
                    .limits(new KvLimits(plan.keyBytes(), plan.valueBytes())).open();
            return new RocksDbDeployment(directory, store);
        } catch (RuntimeException e) {
            ChildMemoryNode.deleteTree(directory);
            throw e;
        }
    }

    @Override
    public KvStore client(int thread) {
        return store;
    }

    @Override
    public Iterable<KvStore> stores() {
        return List.of(store);
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fabric", "none");
        m.put("replication", null);
        m.put("metadata_server", null);
        m.put("clients", "shared");
        return m;
    }

    @Override
    public void close() {
        try {
            store.close();
        } finally {
            ChildMemoryNode.deleteTree(directory);
        }
    }
}
