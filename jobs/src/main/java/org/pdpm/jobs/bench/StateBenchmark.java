package org.pdpm.jobs.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.RunnableFuture;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.core.fs.CloseableRegistry;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.CheckpointStorageAccess;
import org.apache.flink.runtime.state.CheckpointStorageLocationReference;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyedStateBackendParametersImpl;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.SnapshotResult;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.backend.PdpmKeyedStateBackend;
import org.pdpm.flink.pool.StatePools;

/**
 * {@code pdpm bench state}: Flink keyed-state operations in the style of flink-benchmarks' state
 * benchmarks — value get/update, list add/get, map get/put/iterate over the same keys — and
 * checkpoint and restore time at growing state sizes, for each backend in one run. Backends are
 * driven directly, as a task drives them, without a job around them.
 */
public final class StateBenchmark {

    /**
     * The backends it knows, by the name {@code state.backend.type} gives them; {@code pdpm-writethrough}
     * is pdpm with {@code state.backend.pdpm.write-buffer: 0}, every update written to the store at once.
     */
    public static final List<String> BACKENDS = List.of("pdpm", "pdpm-writethrough", "rocksdb", "hashmap");

    /**
     * @param keys            keys the operations spread over (uniformly, seeded)
     * @param ops             operations per measured kind
     * @param checkpointKeys  state sizes (keys of one value state) to checkpoint and restore
     * @param localPoolBytes  size of each memory node of pdpm's embedded pool
     * @param writeBufferBytes pdpm's {@code state.backend.pdpm.write-buffer} (pdpm-writethrough: 0)
     * @param readCacheBytes  pdpm's {@code state.backend.pdpm.read-cache}
     */
    public record Settings(List<String> backends, int keys, int ops, int valueBytes, List<Integer> checkpointKeys,
                           long seed, long localPoolBytes, long writeBufferBytes, long readCacheBytes,
                           Path workDir) {}

    private static final int MAP_ENTRIES = 10;
    private static final int KEY_GROUPS = 128;
    /**
     * Keys updated between two steady checkpoints, each once: a steady job writes between checkpoints,
     * and the same amount at every state size (at 1,000 keys, every key).
     */
    static final int UPDATES_BETWEEN_CHECKPOINTS = 1_000;
    /** Steady checkpoints per size; their median is reported (one checkpoint of a few ms is at the mercy of the scheduler). */
    static final int STEADY_CHECKPOINTS = 5;

    private final Settings settings;

    public StateBenchmark(Settings settings) {
        this.settings = settings;
    }

    /** Runs everything; each measured configuration goes to {@code out} as one result object. */
    public void run(Map<String, Object> machine, Consumer<Map<String, Object>> out) throws Exception {
        for (String backend : settings.backends()) {
            operations(backend, machine, out);
            for (int size : settings.checkpointKeys()) {
                checkpointAndRestore(backend, size, machine, out);
            }
        }
    }

    private StateBackend backendNamed(String name) {
        Configuration config = new Configuration();
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "pdpm", "pdpm-writethrough" -> {
                config.set(PdpmOptions.LOCAL_SIZE, new MemorySize(settings.localPoolBytes()));
                config.set(PdpmOptions.WRITE_BUFFER, name.equalsIgnoreCase("pdpm-writethrough")
                        ? MemorySize.ZERO : new MemorySize(settings.writeBufferBytes()));
                config.set(PdpmOptions.READ_CACHE, new MemorySize(settings.readCacheBytes()));
                yield new PdpmStateBackend().configure(config, getClass().getClassLoader());
            }
            case "rocksdb" -> new EmbeddedRocksDBStateBackend().configure(config, getClass().getClassLoader());
            case "hashmap" -> new HashMapStateBackend().configure(config, getClass().getClassLoader());
            default -> throw new IllegalArgumentException("backend '" + name + "' is not one of " + BACKENDS);
        };
    }

    /** A keyed backend over long keys, opened as a task with all key groups would open it. */
    private static AbstractKeyedStateBackend<Long> open(StateBackend backend, MockEnvironment env, JobID job,
                                                        Collection<KeyedStateHandle> handles) throws Exception {
        return (AbstractKeyedStateBackend<Long>) backend.createKeyedStateBackend(new KeyedStateBackendParametersImpl<>(
                env, job, "bench-operator", LongSerializer.INSTANCE, KEY_GROUPS, new KeyGroupRange(0, KEY_GROUPS - 1),
                env.getTaskKvStateRegistry(), TtlTimeProvider.DEFAULT, new UnregisteredMetricsGroup(), handles,
                new CloseableRegistry()));
    }

    private MockEnvironment environment() throws Exception {
        Path tmp = Files.createTempDirectory(settings.workDir(), "state-bench-");
        return MockEnvironment.builder().setManagedMemorySize(256L << 20)
                .setIOManager(new org.apache.flink.runtime.io.disk.iomanager.IOManagerAsync(tmp.toString()))
                .build();
    }

    // ---------------------------------------------------------------- operations

    private void operations(String backendName, Map<String, Object> machine, Consumer<Map<String, Object>> out)
            throws Exception {
        try (MockEnvironment env = environment()) {
            AbstractKeyedStateBackend<Long> b = open(backendNamed(backendName), env, new JobID(), List.of());
            try {
                ValueState<byte[]> value = b.getPartitionedState(VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE, new ValueStateDescriptor<>("value", byte[].class));
                ListState<Long> list = b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                        new ListStateDescriptor<>("list", Long.class));
                MapState<Integer, byte[]> map = b.getPartitionedState(VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE, new MapStateDescriptor<>("map", Integer.class, byte[].class));
                byte[] v = new byte[settings.valueBytes()];
                for (long k = 0; k < settings.keys(); k++) {       // every key has a value and a small map
                    b.setCurrentKey(k);
                    value.update(v);
                    for (int e = 0; e < MAP_ENTRIES; e++) {
                        map.put(e, v);
                    }
                }
                SplittableRandom rnd = new SplittableRandom(settings.seed());
                drain(b);
                measure(backendName, "value.update", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    value.update(v);
                });
                measure(backendName, "value.get", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    value.value();
                });
                measure(backendName, "list.add", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    list.add(42L);
                });
                measure(backendName, "list.get", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    Iterable<Long> elements = list.get();   // null for a key that has none
                    if (elements != null) {
                        for (Long ignored : elements) {
                            // iterate the whole list, as a window function would
                        }
                    }
                });
                measure(backendName, "map.put", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    map.put(rnd.nextInt(MAP_ENTRIES), v);
                });
                measure(backendName, "map.get", settings.ops(), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    map.get(rnd.nextInt(MAP_ENTRIES));
                });
                measure(backendName, "map.iterate", Math.max(1, settings.ops() / MAP_ENTRIES), machine, out, b, () -> {
                    b.setCurrentKey(rnd.nextLong(settings.keys()));
                    for (Map.Entry<Integer, byte[]> ignored : map.entries()) {
                        // touch every entry
                    }
                });
            } finally {
                b.dispose();
                StatePools.closeAll();
            }
        }
    }

    private interface Op {
        void run() throws Exception;
    }

    /**
     * Times {@code ops} operations after a warm-up. pdpm's buffered writes are timed until they have
     * reached the store, so a write counts only once it is where a checkpoint would pin it.
     */
    private void measure(String backend, String operation, int ops, Map<String, Object> machine,
                         Consumer<Map<String, Object>> out, AbstractKeyedStateBackend<Long> b, Op op)
            throws Exception {
        int warmup = Math.min(ops, Math.max(1_000, ops / 10));
        for (int i = 0; i < warmup; i++) {
            op.run();
        }
        drain(b);
        long start = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            op.run();
        }
        drain(b);
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> r = result(backend, machine);
        r.put("operation", operation);
        r.put("keys", settings.keys());
        r.put("value_size", settings.valueBytes());
        r.put("ops", ops);
        r.put("seconds", seconds);
        r.put("ops_per_s", ops / seconds);
        out.accept(r);
    }

    private static void drain(AbstractKeyedStateBackend<Long> b) {
        if (b instanceof PdpmKeyedStateBackend<Long> pdpm) {
            pdpm.flushWrites();
        }
    }

    // ---------------------------------------------------------------- checkpoint and restore

    private void checkpointAndRestore(String backendName, int size, Map<String, Object> machine,
                                      Consumer<Map<String, Object>> out) throws Exception {
        Path checkpoints = Files.createTempDirectory(settings.workDir(), "checkpoints-");
        JobID job = new JobID();
        CheckpointStorageAccess storage = new FileSystemCheckpointStorage(checkpoints.toUri())
                .createCheckpointStorage(job);
        storage.initializeBaseLocationsForCheckpoint();
        CheckpointStreamFactory streams = storage.resolveCheckpointStorageLocation(1,
                CheckpointStorageLocationReference.getDefault());
        ValueStateDescriptor<byte[]> desc = new ValueStateDescriptor<>("value", byte[].class);
        try (MockEnvironment env = environment()) {
            StateBackend backend = backendNamed(backendName);
            AbstractKeyedStateBackend<Long> b = open(backend, env, job, List.of());
            KeyedStateHandle first;
            KeyedStateHandle handle;
            long firstNanos;
            long checkpointNanos;
            long steadyMinNanos;
            long steadyMaxNanos;
            try {
                ValueState<byte[]> value = b.getPartitionedState(VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE, desc);
                byte[] v = new byte[settings.valueBytes()];
                for (long k = 0; k < size; k++) {
                    b.setCurrentKey(k);
                    value.update(v);
                }
                long start = System.nanoTime();
                first = checkpoint(b, 1, streams);
                firstNanos = System.nanoTime() - start;
                // The steady state of a job: the same writes between two checkpoints at every state size.
                SplittableRandom rnd = new SplittableRandom(settings.seed());
                long[] steady = new long[STEADY_CHECKPOINTS];
                handle = first;
                for (int round = 0; round < STEADY_CHECKPOINTS; round++) {
                    for (long key : distinctKeys(rnd, size, UPDATES_BETWEEN_CHECKPOINTS)) {
                        b.setCurrentKey(key);
                        value.update(v);
                    }
                    start = System.nanoTime();
                    KeyedStateHandle next = checkpoint(b, 2 + round, streams);
                    steady[round] = System.nanoTime() - start;
                    if (handle != first && handle != null) {
                        handle.discardState();                 // subsumed, as the JobManager discards it
                    }
                    handle = next;
                }
                Arrays.sort(steady);
                checkpointNanos = steady[STEADY_CHECKPOINTS / 2];
                steadyMinNanos = steady[0];
                steadyMaxNanos = steady[STEADY_CHECKPOINTS - 1];
            } finally {
                b.dispose();
            }

            long restoreStart = System.nanoTime();
            AbstractKeyedStateBackend<Long> restored = open(backend, env, job, List.of(handle));
            byte[] key0;
            try {
                restored.setCurrentKey(0L);
                key0 = restored.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, desc)
                        .value();
            } finally {
                long restoreNanos = System.nanoTime() - restoreStart;
                restored.dispose();
                Map<String, Object> r = result(backendName, machine);
                r.put("phase", "checkpoint_restore");
                r.put("keys", size);
                r.put("value_size", settings.valueBytes());
                r.put("first_checkpoint_ms", firstNanos / 1e6);
                r.put("first_checkpoint_bytes", first == null ? 0 : first.getStateSize());
                r.put("updates_between_checkpoints", Math.min(size, UPDATES_BETWEEN_CHECKPOINTS));
                r.put("steady_checkpoints", STEADY_CHECKPOINTS);
                r.put("checkpoint_ms", checkpointNanos / 1e6);
                r.put("checkpoint_min_ms", steadyMinNanos / 1e6);
                r.put("checkpoint_max_ms", steadyMaxNanos / 1e6);
                r.put("checkpoint_bytes", handle == null ? 0 : handle.getStateSize());
                r.put("restore_to_first_access_ms", restoreNanos / 1e6);
                out.accept(r);
            }
            if (key0 == null) {
                throw new IllegalStateException(backendName + " lost key 0 across checkpoint and restore at " + size
                        + " keys");
            }
            for (KeyedStateHandle h : new KeyedStateHandle[] {first, handle}) {
                if (h != null) {
                    h.discardState();
                }
            }
        } finally {
            StatePools.closeAll();
        }
    }

    /** Takes checkpoint {@code id} and waits for its asynchronous part. */
    /** {@code n} distinct keys below {@code size} (all of them, shuffled, when there are no more). */
    static long[] distinctKeys(SplittableRandom rnd, long size, int n) {
        if (size <= n) {
            long[] all = new long[(int) size];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            for (int i = all.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                long t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
            return all;
        }
        java.util.Set<Long> picked = new java.util.LinkedHashSet<>();
        while (picked.size() < n) {
            picked.add(rnd.nextLong(size));
        }
        return picked.stream().mapToLong(Long::longValue).toArray();
    }

    private static KeyedStateHandle checkpoint(AbstractKeyedStateBackend<Long> b, long id,
                                               CheckpointStreamFactory streams) throws Exception {
        RunnableFuture<SnapshotResult<KeyedStateHandle>> f = b.snapshot(id, System.currentTimeMillis(), streams,
                CheckpointOptions.forCheckpointWithDefaultLocation());
        if (!f.isDone()) {
            f.run();
        }
        return f.get().getJobManagerOwnedSnapshot();
    }

    private Map<String, Object> result(String backend, Map<String, Object> machine) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bench", "state");
        r.put("backend", backend);
        if (backend.toLowerCase(Locale.ROOT).startsWith("pdpm")) {
            r.put("write_buffer_bytes", backend.equalsIgnoreCase("pdpm") ? settings.writeBufferBytes() : 0);
            r.put("read_cache_bytes", settings.readCacheBytes());
        }
        r.put("machine", machine);
        return r;
    }
}
