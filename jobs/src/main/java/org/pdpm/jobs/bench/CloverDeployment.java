package org.pdpm.jobs.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.layout.EntryLayout;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * Clover for a benchmark run: one replica group of R memory nodes — in this JVM on {@code local},
 * child {@code pdpm memnode} processes on {@code tcp} — with the metadata server embedded in this
 * JVM, and one {@link CloverStore} per benchmark thread, each with its own cache and its own space,
 * as separate compute nodes would have.
 */
final class CloverDeployment implements StoreDeployment {

    /** Data space per node as a multiple of the live data, so garbage collection is never what is measured. */
    private static final int LIVE_DATA_FACTOR = 4;
    private static final int MIN_BLOCK_BYTES = 256 << 10;
    /** Short, because readers of a benchmark never linger on a version; only reused space waits for it. */
    private static final long GRACE_MILLIS = 1000;
    private static final Duration CHILD_START_TIMEOUT = Duration.ofSeconds(60);

    /** Where the fabric's pipelined READs go in the first node's region: its first words, which they only read. */
    private final Fabric fabric;
    private final List<NodeAddress> nodes;
    private final List<ChildMemoryNode> children;
    private final MetadataServer metadata;
    private final List<CloverStore> clients = new ArrayList<>();
    private final int replication;
    /** A connection of its own to the first node for the fabric's yardstick, opened when first needed. */
    private final TcpYardsticks yardsticks;

    private CloverDeployment(Fabric fabric, List<NodeAddress> nodes, List<ChildMemoryNode> children,
                             MetadataServer metadata, int replication) {
        this.fabric = fabric;
        this.nodes = List.copyOf(nodes);
        this.yardsticks = new TcpYardsticks(fabric, this.nodes.get(0));
        this.children = children;
        this.metadata = metadata;
        this.replication = replication;
    }

    static CloverDeployment start(Plan plan) throws IOException {
        if (plan.replication() < 1 || plan.replication() > 3) {
            throw new IllegalArgumentException("replication=" + plan.replication() + " must be 1..3");
        }
        int entryBytes = EntryLayout.entryBytes(plan.keyBytes(), plan.valueBytes());
        int blockBytes = Math.max(MIN_BLOCK_BYTES, Integer.highestOneBit(entryBytes * 4 - 1) << 1);
        MetadataServer.Options options = MetadataServer.Options.forKeys(plan.replication(), plan.keys(), blockBytes,
                GRACE_MILLIS);
        long logBytes = options.logBytes();
        long nodeBytes = nodeBytes(plan, entryBytes, blockBytes, logBytes);

        List<ChildMemoryNode> children = new ArrayList<>();
        Fabric fabric = null;
        CloverDeployment d = null;
        try {
            List<NodeAddress> nodes = new ArrayList<>();
            switch (plan.fabric()) {
                case LOCAL -> {
                    LocalFabric local = new LocalFabric();
                    fabric = local;
                    for (int i = 0; i < plan.replication(); i++) {
                        nodes.add(local.addNode(nodeBytes));
                    }
                }
                case TCP -> {
                    // One fabric reaches every node, so they share one secret, fresh for the run.
                    String secret = ChildMemoryNode.newSecret();
                    for (int i = 0; i < plan.replication(); i++) {
                        ChildMemoryNode child = ChildMemoryNode.start(plan.pdpmMainClass(), nodeBytes, secret,
                                CHILD_START_TIMEOUT);
                        children.add(child);
                        nodes.add(child.address());
                    }
                    fabric = new TcpFabric(secret);
                }
                default -> throw new IllegalArgumentException("fabric=" + plan.fabric().label()
                        + " is not one bench kv runs Clover on; use local or tcp");
            }
            d = new CloverDeployment(fabric, nodes, children, MetadataServer.open(fabric, nodes, options),
                    plan.replication());
            KvLimits limits = new KvLimits(plan.keyBytes(), plan.valueBytes());
            for (int i = 0; i < plan.clients(); i++) {
                d.clients.add(CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(d.metadata)
                        .limits(limits).open());
            }
            return d;
        } catch (IOException | RuntimeException e) {
            if (d != null) {
                d.close();
            } else {
                if (fabric != null) {
                    fabric.close();
                }
                children.forEach(ChildMemoryNode::close);
            }
            throw e;
        }
    }

    /**
     * Superblock, log and shortcut table, then data space for {@link #LIVE_DATA_FACTOR} times the
     * live data plus every version the timed runs will write, plus two blocks per client in use.
     */
    private static long nodeBytes(Plan plan, int entryBytes, int blockBytes, long logBytes) {
        long metadataEnd = PoolLayout.SUPERBLOCK_BYTES + logBytes + plan.keys() * 8;
        long dataOffset = (metadataEnd + blockBytes - 1) / blockBytes * blockBytes;
        long liveBytes = plan.keys() * entryBytes;
        long runBytes = plan.runPuts() * entryBytes;
        long dataBytes = LIVE_DATA_FACTOR * liveBytes + runBytes + 2L * (plan.clients() + 1) * blockBytes;
        return dataOffset + (dataBytes + blockBytes - 1) / blockBytes * blockBytes;
    }

    @Override
    public KvStore client(int thread) {
        return clients.get(thread);
    }

    @Override
    public Iterable<KvStore> stores() {
        return List.copyOf(clients);
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fabric", fabric.name());
        m.put("replication", replication);
        m.put("metadata_server", "embedded");
        m.put("clients", "one per thread");
        return m;
    }

    /** On tcp, see {@link TcpYardsticks}; on local, nothing. */
    @Override
    public OptionalLong pipelinedFabricReadsPerSecond(int depth, long warmupNanos, long nanos) {
        return yardsticks.pipelinedReadsPerSecond(depth, warmupNanos, nanos);
    }

    @Override
    public OptionalLong sameShapeFabricReadsPerSecond(int threads, int inFlight, long warmupNanos, long nanos) {
        return yardsticks.sameShapeReadsPerSecond(threads, inFlight, warmupNanos, nanos);
    }

    @Override
    public void close() {
        try {
            yardsticks.close();
            clients.forEach(CloverStore::close);
            metadata.close();
            fabric.close();
        } finally {
            children.forEach(ChildMemoryNode::close);
        }
    }
}
