package org.pdpm.jobs.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.central.CoordinatorService;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * pDPM-Central for a benchmark run: one replica group of R memory nodes — in this JVM on
 * {@code local}, child {@code pdpm memnode} processes on {@code tcp} — and the coordinator embedded
 * in this JVM. On {@code local} the clients call it directly (its RPC is then a method call, still
 * counted as a round trip); on {@code tcp} they reach it through its RPC server on loopback, one
 * {@link RemoteCoordinator} connection per benchmark thread, as separate compute nodes would.
 */
final class CentralDeployment implements StoreDeployment {

    /** Slots per key loaded: room for the keys, whatever the run adds, and some to spare. */
    private static final double SLOT_FACTOR = 1.25;
    private static final int LOG_ENTRIES = 256;
    private static final Duration CHILD_START_TIMEOUT = Duration.ofSeconds(60);

    private final Fabric fabric;
    private final List<ChildMemoryNode> children;
    private final Coordinator coordinator;
    private final CoordinatorRpcServer rpc;
    private final List<RemoteCoordinator> remotes = new ArrayList<>();
    private final List<CentralStore> clients = new ArrayList<>();
    private final int replication;

    private CentralDeployment(Fabric fabric, List<ChildMemoryNode> children, Coordinator coordinator,
                              CoordinatorRpcServer rpc, int replication) {
        this.fabric = fabric;
        this.children = children;
        this.coordinator = coordinator;
        this.rpc = rpc;
        this.replication = replication;
    }

    static CentralDeployment start(Plan plan) throws IOException {
        if (plan.replication() < 1 || plan.replication() > 3) {
            throw new IllegalArgumentException("replication=" + plan.replication() + " must be 1..3");
        }
        int slotBytes = (32 + plan.keyBytes() + plan.valueBytes() + 7) / 8 * 8;
        Coordinator.Options options = new Coordinator.Options(plan.replication(), Math.max(64, slotBytes),
                plan.keyBytes(), LOG_ENTRIES);
        long slots = (long) Math.ceil(plan.keys() * SLOT_FACTOR) + 1024;
        long nodeBytes = 4096 + (long) (LOG_ENTRIES + slots) * options.slotBytes();

        List<ChildMemoryNode> children = new ArrayList<>();
        Fabric fabric = null;
        Coordinator coordinator = null;
        CentralDeployment d = null;
        try {
            List<NodeAddress> nodes = new ArrayList<>();
            String secret = null;
            switch (plan.fabric()) {
                case LOCAL -> {
                    LocalFabric local = new LocalFabric();
                    fabric = local;
                    for (int i = 0; i < plan.replication(); i++) {
                        nodes.add(local.addNode(nodeBytes));
                    }
                }
                case TCP -> {
                    secret = ChildMemoryNode.newSecret();
                    for (int i = 0; i < plan.replication(); i++) {
                        ChildMemoryNode child = ChildMemoryNode.start(plan.pdpmMainClass(), nodeBytes, secret,
                                CHILD_START_TIMEOUT);
                        children.add(child);
                        nodes.add(child.address());
                    }
                    fabric = new TcpFabric(secret);
                }
                default -> throw new IllegalArgumentException("fabric=" + plan.fabric().label()
                        + " is not one bench kv runs Central on; use local or tcp");
            }
            coordinator = Coordinator.open(fabric, nodes, options);
            CoordinatorRpcServer rpc = plan.fabric() == FabricKind.TCP
                    ? CoordinatorRpcServer.start(coordinator, CoordinatorRpcServer.Config.of(
                            new InetSocketAddress("127.0.0.1", 0), secret))
                    : null;
            d = new CentralDeployment(fabric, children, coordinator, rpc, plan.replication());
            for (int i = 0; i < plan.clients(); i++) {
                CoordinatorService service = coordinator;
                if (rpc != null) {
                    RemoteCoordinator remote = new RemoteCoordinator(new NodeAddress("127.0.0.1",
                            rpc.boundAddress().getPort()), new RemoteCoordinator.Options(secret, Duration.ofSeconds(5),
                            Duration.ofSeconds(60), 1));
                    d.remotes.add(remote);
                    service = remote;
                }
                d.clients.add(CentralStore.builder().coordinator(service).open());
            }
            return d;
        } catch (IOException | RuntimeException e) {
            if (d != null) {
                d.close();
            } else {
                if (coordinator != null) {
                    coordinator.close();
                }
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
        m.put("metadata_server", rpc == null ? "coordinator embedded, direct calls" : "coordinator embedded, tcp rpc");
        m.put("clients", "one per thread");
        return m;
    }

    @Override
    public void close() {
        try {
            clients.forEach(CentralStore::close);
            remotes.forEach(RemoteCoordinator::close);
            if (rpc != null) {
                rpc.close();
            }
            coordinator.close();
            fabric.close();
        } finally {
            children.forEach(ChildMemoryNode::close);
        }
    }
}
