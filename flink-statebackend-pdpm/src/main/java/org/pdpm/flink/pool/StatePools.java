package org.pdpm.flink.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.flink.PdpmOptions.FabricType;
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

    private static StatePool openEmbedded(PoolSpec spec) {
        LocalFabric fabric = new LocalFabric();
        List<NodeAddress> nodes = new ArrayList<>();
        for (int i = 0; i < spec.replication(); i++) {
            nodes.add(fabric.addNode(spec.localNodeBytes()));
        }
        // A quarter of each node for the metadata log: Flink state is many small entries, so the pool
        // runs out of key slots long before data space with Clover's default of an eighth.
        long logBytes = spec.localNodeBytes() / 4 / 4096 * 4096;
        MetadataServer server = MetadataServer.open(fabric, nodes,
                new MetadataServer.Options(spec.replication(), logBytes, MetadataServer.Options.AUTO, 1 << 20, 1_000));
        String id = EMBEDDED_PREFIX + Long.toHexString(ProcessHandle.current().pid()) + "-" + BY_SPEC.size();
        LOG.info("pdpm: state lives in an embedded pool inside this JVM ({}); it serves single-process runs only"
                + " and is gone when the process ends. Configure state.backend.pdpm.memory-nodes for a cluster.", spec);
        return new CloverPool(id, fabric, nodes, server, () -> {
            server.close();
            fabric.close();
        });
    }

    private static StatePool openRemote(PoolSpec spec) {
        Fabric fabric = spec.fabric() == FabricType.DISNI
                ? new DisniFabric()
                : new TcpFabric(TcpFabric.Options.withSecret(spec.secret()));
        RemoteMetadataService metadata;
        try {
            metadata = new RemoteMetadataService(spec.metadataServer(),
                    RemoteMetadataService.Options.withSecret(spec.secret()));
        } catch (RuntimeException e) {
            fabric.close();
            throw e;
        }
        LOG.info("pdpm: state lives in {}", spec);
        return new CloverPool(spec.metadataServer().toString(), fabric, spec.memoryNodes(), metadata, () -> {
            metadata.close();
            fabric.close();
        });
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
