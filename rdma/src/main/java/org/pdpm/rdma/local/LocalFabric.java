package org.pdpm.rdma.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.memory.ChunkedRegionMemory;
import org.pdpm.rdma.memory.NodeMemory;
import org.pdpm.rdma.memory.VerbExecutor;

/**
 * Memory nodes inside this JVM: off-heap regions, no network. The embedded default and the fast
 * test fabric. An optional latency is added to every round trip (not to every verb) for
 * experiments; it is honoured with the precision of the OS timer (tens of microseconds).
 */
public final class LocalFabric implements Fabric {

    public static final String HOST = "local";

    private final Map<NodeAddress, VerbExecutor> nodes = new ConcurrentHashMap<>();
    private final List<LocalConnection> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextPort = new AtomicInteger(1);
    private final long roundTripLatencyNanos;
    private final long timeoutNanos;
    private final DelayedCompleter completer;

    public LocalFabric() {
        this(Duration.ZERO);
    }

    public LocalFabric(Duration roundTripLatency) {
        this(roundTripLatency, Duration.ofSeconds(30));
    }

    public LocalFabric(Duration roundTripLatency, Duration timeout) {
        this.roundTripLatencyNanos = roundTripLatency.toNanos();
        this.timeoutNanos = timeout.toNanos();
        if (roundTripLatencyNanos < 0) {
            throw new IllegalArgumentException("roundTripLatency=" + roundTripLatency + " must not be negative");
        }
        this.completer = roundTripLatencyNanos > 0 ? new DelayedCompleter() : null;
    }

    /** Creates a node with one zeroed region of {@code sizeBytes} and returns its address. */
    public NodeAddress addNode(long sizeBytes) {
        NodeMemory memory = new NodeMemory("local-" + UUID.randomUUID(), false);
        memory.register(ChunkedRegionMemory.allocateDirect(sizeBytes));
        NodeAddress address = new NodeAddress(HOST, nextPort.getAndIncrement());
        nodes.put(address, new VerbExecutor(memory));
        return address;
    }

    /** Removes a node as if it had died: its connections fail with RETRY_EXCEEDED from now on. */
    public void removeNode(NodeAddress address) {
        VerbExecutor node = nodes.remove(address);
        if (node != null) {
            for (LocalConnection c : connections) {
                if (c.executor() == node) {
                    c.markNodeGone();
                }
            }
            node.node().close();
        }
    }

    public List<NodeAddress> nodes() {
        return new ArrayList<>(nodes.keySet());
    }

    @Override
    public String name() {
        return "local";
    }

    @Override
    public Connection connect(NodeAddress address) {
        VerbExecutor node = nodes.get(address);
        if (node == null) {
            throw new FabricException(FabricException.Status.CONNECTION_REFUSED,
                    "no local memory node at " + address + " (known: " + nodes.keySet() + ")");
        }
        LocalConnection c = new LocalConnection(node, roundTripLatencyNanos, completer, timeoutNanos,
                connections::remove);
        connections.add(c);
        return c;
    }

    @Override
    public void close() {
        for (LocalConnection c : connections) {
            c.close();
        }
        for (VerbExecutor node : nodes.values()) {
            node.node().close();
        }
        nodes.clear();
        if (completer != null) {
            completer.close();
        }
    }
}
