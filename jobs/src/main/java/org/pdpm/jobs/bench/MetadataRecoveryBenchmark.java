package org.pdpm.jobs.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long Clover's metadata server takes to come back: load N keys, drop the server (it holds no
 * state the memory nodes lack, so dropping it is a crash), open a new one on the same nodes and
 * time it until it serves — then the first cold GET through it.
 */
public final class MetadataRecoveryBenchmark {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataRecoveryBenchmark.class);
    private static final int LOADERS = 2;

    /** What to load. */
    public record Settings(FabricKind fabric, int keys, int valueBytes) {}

    private final Settings settings;

    public MetadataRecoveryBenchmark(Settings settings) {
        this.settings = settings;
    }

    /** Options sized for the keys: log and shortcut table with room to spare, 1 MiB blocks. */
    private MetadataServer.Options options() {
        long keys = settings.keys();
        return MetadataServer.Options.forKeys(1, keys + 1024, 1 << 20, 10_000);
    }

    /** Bytes one memory node needs: metadata, the data twice over, and a block per loader. */
    private long nodeBytes() {
        long entry = (48 + 24 + settings.valueBytes() + 15) / 16 * 16;
        MetadataServer.Options o = options();
        long metadata = 4096 + o.logBytes() + o.maxKeys() * 8;
        long data = 2 * settings.keys() * entry + (LOADERS + 2L) * o.blockBytes();
        long total = metadata + data + o.blockBytes();
        return (total + o.blockBytes() - 1) / o.blockBytes() * o.blockBytes();
    }

    public Map<String, Object> run(String memnodeMainClass, Map<String, Object> machine) throws Exception {
        ChildMemoryNode child = null;
        Fabric fabric;
        List<NodeAddress> nodes;
        if (settings.fabric() == FabricKind.LOCAL) {
            LocalFabric local = new LocalFabric();
            nodes = List.of(local.addNode(nodeBytes()));
            fabric = local;
        } else if (settings.fabric() == FabricKind.TCP) {
            child = ChildMemoryNode.start(memnodeMainClass, nodeBytes(), Duration.ofSeconds(60));
            fabric = new TcpFabric(child.secret());
            nodes = List.of(child.address());
        } else {
            throw new IllegalArgumentException("fabric=" + settings.fabric().label() + " is not supported here: use local or tcp");
        }
        try (Fabric f = fabric) {
            long loadStart = System.nanoTime();
            MetadataServer first = MetadataServer.open(f, nodes, options());
            load(f, nodes, first);
            long loadMillis = (System.nanoTime() - loadStart) / 1_000_000;
            long logBytes = first.logBytesUsed();
            first.close();

            long openStart = System.nanoTime();
            MetadataServer second = MetadataServer.open(f, nodes, options());
            long openMillis = (System.nanoTime() - openStart) / 1_000_000;
            try (CloverStore reader = CloverStore.builder().fabric(f).memoryNodes(nodes).metadata(second).open()) {
                long getStart = System.nanoTime();
                byte[] v = reader.get(key(settings.keys() / 2));
                long getMicros = (System.nanoTime() - getStart) / 1_000;
                if (v == null) {
                    throw new IllegalStateException("key " + settings.keys() / 2 + " is missing after the restart");
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("benchmark", "metaserver_recovery");
                m.put("fabric", settings.fabric().label());
                m.put("keys", settings.keys());
                m.put("value_size", settings.valueBytes());
                m.put("keys_recovered", second.keyCount());
                m.put("log_bytes", logBytes);
                m.put("load_seconds", loadMillis / 1000.0);
                m.put("replay_ms", second.recoveryMillis());
                m.put("restart_ms", openMillis);
                m.put("first_cold_get_us", getMicros);
                m.put("machine", machine);
                return m;
            } finally {
                second.close();
            }
        } finally {
            if (child != null) {
                child.close();
            }
        }
    }

    private void load(Fabric fabric, List<NodeAddress> nodes, MetadataServer ms) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(LOADERS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < LOADERS; t++) {
                int first = t;
                done.add(pool.submit(() -> {
                    try (CloverStore s = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(ms).open()) {
                        byte[] value = new byte[settings.valueBytes()];
                        for (int i = first; i < settings.keys(); i += LOADERS) {
                            s.put(key(i), value);
                            if (i % 100_000 == 0) {
                                LOG.info("loaded {} of {} keys", i, settings.keys());
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] key(int i) {
        return String.format("user%010d", i).getBytes(StandardCharsets.UTF_8);
    }

}
