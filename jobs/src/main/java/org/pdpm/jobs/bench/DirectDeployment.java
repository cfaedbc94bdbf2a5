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
import org.pdpm.core.direct.DirectStore;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * pDPM-Direct for a benchmark run: one replica group of R memory nodes — in this JVM on
 * {@code local}, child {@code pdpm memnode} processes on {@code tcp} — and no server: one
 * {@link DirectStore} per benchmark thread, each with its own lock words and slot cache, as
 * separate compute nodes would have. The first client formats the pool.
 */
final class DirectDeployment implements StoreDeployment {

    /** Slots per key: at a quarter load a key's 32-slot probe window has room (at half load 100,000 keys overflowed one). */
    private static final int SLOTS_PER_KEY = 4;
    private static final Duration CHILD_START_TIMEOUT = Duration.ofSeconds(60);
    /** Where the fabric's pipelined READs go in the first node's region: its superblock, which they only read. */
    private final Fabric fabric;
    private final List<NodeAddress> nodes;
    private final List<ChildMemoryNode> children;
    private final List<DirectStore> clients = new ArrayList<>();
    private final int replication;
    private final TcpYardsticks yardsticks;

    private DirectDeployment(Fabric fabric, List<NodeAddress> nodes, List<ChildMemoryNode> children, int replication) {
        this.fabric = fabric;
        this.nodes = List.copyOf(nodes);
        this.yardsticks = new TcpYardsticks(fabric, this.nodes.get(0));
        this.children = children;
        this.replication = replication;
    }

    static DirectDeployment start(Plan plan) throws IOException {
        if (plan.replication() < 1 || plan.replication() > 3) {
            throw new IllegalArgumentException("replication=" + plan.replication() + " must be 1..3");
        }
        KvLimits limits = new KvLimits(plan.keyBytes(), plan.valueBytes());
        long slots = Math.max(64, SLOTS_PER_KEY * plan.keys());
        long nodeBytes = DirectStore.regionBytesFor(plan.replication(), plan.replication(), limits, slots);
        List<ChildMemoryNode> children = new ArrayList<>();
        Fabric fabric = null;
        DirectDeployment d = null;
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
                        + " is not one bench kv runs Direct on; use local or tcp");
            }
            d = new DirectDeployment(fabric, nodes, children, plan.replication());
            for (int i = 0; i < plan.clients(); i++) {
                d.clients.add(DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(plan.replication())
                        .limits(limits).slotsPerGroup(slots).open());
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
        m.put("metadata_server", null);
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
            clients.forEach(DirectStore::close);
            fabric.close();
        } finally {
            children.forEach(ChildMemoryNode::close);
        }
    }
}
