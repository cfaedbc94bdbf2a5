package org.pdpm.rdma.sim;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;

/**
 * The simulated fabric for testing what is built on the fabric: memory nodes in this JVM whose
 * durability is tracked word by word, and clients (compute nodes) that suffer seeded delays and
 * failures and can be stopped after their k-th verb. One {@code long} seed drives every random
 * choice — fault schedules, delays, torn words — and is printed by {@link #toString()}, so a failing
 * run replays with the same seed (timing of delayed completions aside).
 *
 * <pre>{@code
 * SimFabric sim = SimFabric.builder().seed(42).build();
 * NodeAddress n = sim.addNode(64 << 10);
 * SimClient writer = sim.client("writer").crashAfterVerbs(3);
 * Connection c = writer.connect(n);
 * ... run the operation until it fails with SimulatedCrashException.isCrash(e) ...
 * sim.powerLoss(n, PowerLoss.TEAR);
 * sim.restartNode(n);
 * Connection checker = sim.connect(n);     // the default client: no faults unless configured
 * }</pre>
 *
 * <p>Nodes: a write or atomic is durable once a later FLUSH covering it has executed, or at once
 * on a node added with {@link #addWriteThroughNode}. {@link #killNode} is a process crash (memory,
 * a mapped PM file, keeps everything); {@link #powerLoss} also drops or tears what was not durable.
 * Both leave the node down — its connections fail with RETRY_EXCEEDED — until {@link #restartNode},
 * after which clients must reconnect to learn the new rkey.
 *
 * <p>Protection checks, batch refusal and execution are those of every fabric (the shared
 * {@code VerbExecutor}); only the rkeys it draws are not from the seed.
 */
public final class SimFabric implements Fabric {

    /** The host part of every simulated node's address. */
    public static final String HOST = "sim";

    /** The name of the client behind {@link #connect}. */
    public static final String DEFAULT_CLIENT = "default";

    private final long seed;
    private final Faults defaultFaults;
    private final long timeoutNanos;
    private final Map<NodeAddress, SimNode> nodes = new ConcurrentHashMap<>();
    private final Map<String, SimClient> clients = new ConcurrentHashMap<>();
    private final AtomicInteger nextPort = new AtomicInteger(1);
    private final SimClient defaultClient;

    private SimFabric(Builder builder) {
        this.seed = builder.seed;
        this.defaultFaults = builder.faults;
        this.timeoutNanos = builder.timeout.toNanos();
        this.defaultClient = client(DEFAULT_CLIENT);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The seed every random choice derives from; pass it to {@link Builder#seed} to replay. */
    public long seed() {
        return seed;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** Adds a node with one zeroed region whose writes become durable only when flushed. */
    public NodeAddress addNode(long sizeBytes) {
        return addNode(sizeBytes, false);
    }

    /** Adds a node with one zeroed region where every write and atomic is durable as it lands. */
    public NodeAddress addWriteThroughNode(long sizeBytes) {
        return addNode(sizeBytes, true);
    }

    private NodeAddress addNode(long sizeBytes, boolean writeThrough) {
        NodeAddress address = new NodeAddress(HOST, nextPort.getAndIncrement());
        String nodeId = "sim-" + address.port();
        nodes.put(address, new SimNode(address, nodeId, sizeBytes, writeThrough, random("tear " + nodeId)));
        return address;
    }

    /** A new client with the fabric's default faults. */
    public SimClient client(String name) {
        return client(name, defaultFaults);
    }

    /** A new client suffering {@code faults}; names are unique, as each names a seeded fault stream. */
    public SimClient client(String name, Faults faults) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(faults, "faults");
        SimClient c = new SimClient(this, name, faults, random("client " + name));
        if (clients.putIfAbsent(name, c) != null) {
            throw new IllegalArgumentException("client name=" + name + " exists already");
        }
        return c;
    }

    /** Kills the node's process: it stops answering; its memory keeps even un-flushed writes. */
    public void killNode(NodeAddress address) {
        node(address).kill();
    }

    /**
     * Cuts the node's power: it stops answering (if it still did) and every write not yet durable
     * is dropped or torn as {@code mode} says.
     *
     * @return how many 8-byte words reverted to their durable value
     */
    public int powerLoss(NodeAddress address, PowerLoss mode) {
        Objects.requireNonNull(mode, "mode");
        return node(address).losePower(mode);
    }

    /** Brings a killed or powered-off node back with what its memory kept, under a fresh rkey. */
    public void restartNode(NodeAddress address) {
        node(address).restart();
    }

    public boolean isUp(NodeAddress address) {
        return node(address).isUp();
    }

    /** 8-byte words on the node written since they were last made durable; 0 once all is flushed. */
    public int unflushedWords(NodeAddress address) {
        return node(address).unflushedWords();
    }

    /** The node a client connects to; CONNECTION_REFUSED where none was added, as on a network. */
    SimNode nodeToConnect(NodeAddress address) {
        SimNode n = nodes.get(address);
        if (n == null) {
            throw new FabricException(FabricException.Status.CONNECTION_REFUSED,
                    "no simulated memory node at " + address + " (known: " + nodes.keySet() + ")");
        }
        return n;
    }

    private SimNode node(NodeAddress address) {
        SimNode n = nodes.get(address);
        if (n == null) {
            throw new IllegalArgumentException("address=" + address + " is not a node of this fabric");
        }
        return n;
    }

    /** An independent random stream for one purpose, so adding a client does not shift another's faults. */
    private SplittableRandom random(String purpose) {
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * purpose.hashCode()));
    }

    @Override
    public String name() {
        return "sim";
    }

    /** Connects the default client, which suffers the builder's faults and has no verb limit. */
    @Override
    public Connection connect(NodeAddress address) {
        return defaultClient.connect(address);
    }

    @Override
    public void close() {
        for (SimClient c : clients.values()) {
            c.closeConnections();
        }
        for (SimNode n : nodes.values()) {
            n.close();
        }
        nodes.clear();
    }

    @Override
    public String toString() {
        return "SimFabric[seed=" + seed + ", nodes=" + nodes.size() + ", clients=" + clients.size() + "]";
    }

    /** Configures a {@link SimFabric}; every setting has a default. */
    public static final class Builder {

        private long seed = ThreadLocalRandom.current().nextLong();
        private Faults faults = Faults.none();
        private Duration timeout = Duration.ofSeconds(30);

        private Builder() {}

        /** The seed of every random choice; a random one (see {@link SimFabric#seed()}) by default. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Faults of {@link SimFabric#connect}'s client and of clients created without their own. */
        public Builder faults(Faults faults) {
            this.faults = Objects.requireNonNull(faults, "faults");
            return this;
        }

        /** How long blocking calls wait for a completion before failing with RETRY_EXCEEDED. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout=" + timeout + " must be positive");
            }
            this.timeout = timeout;
            return this;
        }

        public SimFabric build() {
            return new SimFabric(this);
        }
    }
}
