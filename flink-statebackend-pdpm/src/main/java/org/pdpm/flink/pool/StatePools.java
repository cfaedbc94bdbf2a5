package org.pdpm.flink.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.direct.DirectStore;
import org.pdpm.core.lineage.StoreLineages;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.flink.PdpmOptions.FabricType;
import org.pdpm.flink.PdpmOptions.StoreSystem;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.disni.DisniFabric;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pools of this process, one per {@link PoolSpec}, opened on first use and kept for the life of
 * the process: every backend of every task, and the {@code pdpm://} file system, share them.
 * <p>
 * The embedded pool (no memory nodes configured) lives inside this JVM: memory nodes on the local
 * fabric and a metadata server, for single-process runs — tests, the demo, a MiniCluster. Its state
 * dies with the process, which the log says at start.
 */
public final class StatePools {

    private static final Logger LOG = LoggerFactory.getLogger(StatePools.class);
    /** Prefix of embedded pools' ids in {@code pdpm://} paths. */
    static final String EMBEDDED_PREFIX = "embedded-";

    private static final Map<PoolSpec, StatePool> BY_SPEC = new ConcurrentHashMap<>();
    private static final Map<String, StatePool> BY_ID = new ConcurrentHashMap<>();

    private StatePools() {
    }

    /** The pool {@code spec} names, opened now if this process has not opened it yet. */
    public static StatePool get(PoolSpec spec) {
        return BY_SPEC.computeIfAbsent(spec, s -> {
            StatePool pool = s.embedded() ? openEmbedded(s) : openRemote(s);
            BY_ID.put(pool.id(), pool);
            return pool;
        });
    }

    /** The pool a {@code pdpm://} path names, if this process has it open. */
    public static StatePool byId(String id) {
        return BY_ID.get(id);
    }

    /** Whether {@code id} names an embedded pool (which only the process that made it can reach). */
    public static boolean isEmbeddedId(String id) {
        return id.startsWith(EMBEDDED_PREFIX);
    }

    /** Largest Flink key (key group, state, key, namespace and user key) on Direct and Central. */
    static final int STORE_LINEAGE_KEY_BYTES = 256;
    /** Largest serialized Flink value on Direct and Central, whose slots are all this size. */
    static final int STORE_LINEAGE_VALUE_BYTES = 4096;
    private static final KvLimits STORE_LINEAGE_LIMITS = new KvLimits(
            StoreLineages.storeKeyBytesFor(STORE_LINEAGE_KEY_BYTES),
            StoreLineages.storeValueBytesFor(STORE_LINEAGE_VALUE_BYTES));

    private static StatePool openEmbedded(PoolSpec spec) {
        LocalFabric fabric = new LocalFabric();
        List<NodeAddress> nodes = new ArrayList<>();
        for (int i = 0; i < spec.replication(); i++) {
            nodes.add(fabric.addNode(spec.localNodeBytes()));
        }
        String id = EMBEDDED_PREFIX + Long.toHexString(ProcessHandle.current().pid()) + "-" + BY_SPEC.size();
        LOG.info("pdpm: state lives in an embedded pool inside this JVM ({}); it serves single-process runs only"
                + " and is gone when the process ends. Configure state.backend.pdpm.memory-nodes for a cluster.", spec);
        try {
            return switch (spec.system()) {
                case CLOVER -> embeddedClover(spec, id, fabric, nodes);
                case DIRECT -> storeLineagePool(id, spec, direct(fabric, nodes, spec.replication()), fabric);
                case CENTRAL -> {
                    Coordinator coordinator = Coordinator.open(fabric, nodes,
                            Coordinator.Options.forLimits(spec.replication(), STORE_LINEAGE_LIMITS));
                    yield storeLineagePool(id, spec, CentralStore.builder().coordinator(coordinator).open(), () -> {
                        coordinator.close();
                        fabric.close();
                    });
                }
            };
        } catch (RuntimeException e) {
            fabric.close();
            throw e;
        }
    }

    private static DirectStore direct(Fabric fabric, List<NodeAddress> nodes, int replication) {
        return DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(replication)
                .limits(STORE_LINEAGE_LIMITS).open();
    }

    private static StatePool storeLineagePool(String id, PoolSpec spec, ConditionalKvStore store, AutoCloseable rest) {
        StoreLineages lineages = StoreLineages.over(store);
        return new LineagePool(id, spec.toString(), lineages, lineages::open, () -> {
            store.close();
            rest.close();
        });
    }

    private static StatePool embeddedClover(PoolSpec spec, String id, LocalFabric fabric, List<NodeAddress> nodes) {
        // A quarter of each node for the metadata log: Flink state is many small entries, so the pool
        // runs out of key slots long before data space with Clover's default of an eighth.
        long logBytes = spec.localNodeBytes() / 4 / 4096 * 4096;
        MetadataServer server = MetadataServer.open(fabric, nodes,
                new MetadataServer.Options(spec.replication(), logBytes, MetadataServer.Options.AUTO, 1 << 20, 1_000));
        return new LineagePool(id, spec.toString(), server, clover(fabric, nodes, server), () -> {
            server.close();
            fabric.close();
        });
    }

    private static StatePool openRemote(PoolSpec spec) {
        LOG.info("pdpm: state lives in {}", spec);
        if (spec.system() == StoreSystem.CENTRAL) {
            // Central's clients reach only the coordinator, which alone touches the memory nodes.
            RemoteCoordinator coordinator = new RemoteCoordinator(spec.coordinator(),
                    RemoteCoordinator.Options.withSecret(spec.secret()));
            return storeLineagePool(spec.remoteId(), spec, CentralStore.builder().coordinator(coordinator).open(),
                    coordinator::close);
        }
        Fabric fabric = spec.fabric() == FabricType.DISNI
                ? new DisniFabric()
                : new TcpFabric(TcpFabric.Options.withSecret(spec.secret()));
        try {
            if (spec.system() == StoreSystem.DIRECT) {
                return storeLineagePool(spec.remoteId(), spec, direct(fabric, spec.memoryNodes(), spec.replication()),
                        fabric);
            }
            RemoteMetadataService metadata = new RemoteMetadataService(spec.metadataServer(),
                    RemoteMetadataService.Options.withSecret(spec.secret()));
            return new LineagePool(spec.remoteId(), spec.toString(), metadata,
                    clover(fabric, spec.memoryNodes(), metadata), () -> {
                metadata.close();
                fabric.close();
            });
        } catch (RuntimeException e) {
            fabric.close();
            throw e;
        }
    }

    /**
     * Flink state is overwritten far more than it is pinned, so the metadata server hears of
     * superseded versions at every {@value #RETIRE_EVERY}th version of a key: a quarter of the
     * collection work, for up to three superseded versions per key waiting.
     */
    static final int RETIRE_EVERY = 4;

    private static LineagePool.Opener clover(Fabric fabric, List<NodeAddress> nodes, MetadataService metadata) {
        return (lineage, epoch) -> CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata)
                .lineage(lineage).epoch(epoch).retireEvery(RETIRE_EVERY).open();
    }

    /** Closes every pool of this process (tests); later calls open them anew. */
    public static synchronized void closeAll() {
        for (StatePool pool : BY_SPEC.values()) {
            try {
                ((AutoCloseable) pool).close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", pool, e);
            }
        }
        BY_SPEC.clear();
        BY_ID.clear();
    }

}
