package org.pdpm.core.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntPredicate;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * Connections to the memory nodes of a pool, in pool order; node i of group g is {@code g * R + i}.
 * A node may have no connection: it could not be reached, or it is out of service. Connections
 * that broke are replaced only by {@link #reconnect}, so a node that died and came back is never
 * used again unless its owner decides so.
 */
public final class PoolNodes implements AutoCloseable {

    private final Fabric fabric;
    private final List<NodeAddress> addresses;
    private final AtomicReferenceArray<Connection> connections;
    private final AtomicReferenceArray<RemoteRegion> regions;
    private final FabricException[] connectFailures;
    private boolean closed;

    private PoolNodes(Fabric fabric, List<NodeAddress> addresses, List<Connection> connections,
                      FabricException[] connectFailures) {
        this.fabric = fabric;
        this.connectFailures = connectFailures;
        this.addresses = List.copyOf(addresses);
        this.connections = new AtomicReferenceArray<>(connections.size());
        this.regions = new AtomicReferenceArray<>(connections.size());
        for (int n = 0; n < connections.size(); n++) {
            Connection c = connections.get(n);
            this.connections.set(n, c);
            this.regions.set(n, c == null ? null : c.node().firstRegion());
        }
    }

    /** Connects to every node; closes what it opened when one connection fails. */
    public static PoolNodes connect(Fabric fabric, List<NodeAddress> addresses) {
        return connect(fabric, addresses, n -> false, false);
    }

    /**
     * Connects to every node but those {@code skip} names; with {@code tolerant}, a node that cannot
     * be reached is left without a connection instead of failing the whole pool.
     */
    public static PoolNodes connect(Fabric fabric, List<NodeAddress> addresses, IntPredicate skip, boolean tolerant) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("a pool needs at least one memory node");
        }
        List<Connection> opened = new ArrayList<>();
        FabricException[] failures = new FabricException[addresses.size()];
        try {
            for (int n = 0; n < addresses.size(); n++) {
                Connection c = null;
                if (!skip.test(n)) {
                    try {
                        c = fabric.connect(addresses.get(n));
                    } catch (FabricException e) {
                        if (!tolerant) {
                            throw e;
                        }
                        failures[n] = e;
                    }
                }
                opened.add(c);
            }
        } catch (RuntimeException e) {
            opened.stream().filter(c -> c != null).forEach(Connection::close);
            throw e;
        }
        return new PoolNodes(fabric, addresses, opened, failures);
    }

    /** Why connecting to the node failed when the pool was connected, or null. */
    public FabricException connectFailure(int node) {
        return connectFailures[node];
    }

    /** Whether a failure says the node could not be reached (rather than that the request was wrong). */
    public static boolean isUnreachable(FabricException e) {
        return switch (e.status()) {
            case RETRY_EXCEEDED, FLUSHED, CONNECTION_REFUSED -> true;
            default -> false;
        };
    }

    public int size() {
        return addresses.size();
    }

    /** Whether the node has a connection (it may still have broken since). */
    public boolean isConnected(int node) {
        return connections.get(node) != null;
    }

    public Connection connection(int node) {
        Connection c = connections.get(node);
        if (c == null) {
            throw new FabricException(FabricException.Status.RETRY_EXCEEDED, "memory node " + addresses.get(node)
                    + " is not connected (unreachable or out of service)");
        }
        return c;
    }

    public RemoteRegion region(int node) {
        RemoteRegion r = regions.get(node);
        if (r == null) {
            throw new FabricException(FabricException.Status.RETRY_EXCEEDED, "memory node " + addresses.get(node)
                    + " is not connected (unreachable or out of service)");
        }
        return r;
    }

    public NodeAddress address(int node) {
        return addresses.get(node);
    }

    /** Replaces the node's connection with a new one; fails when the node cannot be reached. */
    public synchronized void reconnect(int node) {
        if (closed) {
            // A closed owner (a metadata server replaced by a new one) must not come back to life.
            throw new FabricException(FabricException.Status.FLUSHED, "the connections to pool node "
                    + addresses.get(node) + " are closed");
        }
        Connection fresh = fabric.connect(addresses.get(node));
        regions.set(node, fresh.node().firstRegion());
        Connection old = connections.getAndSet(node, fresh);
        if (old != null) {
            old.close();
        }
    }

    /** Closes and forgets the node's connection: it is never used again. */
    public synchronized void disconnect(int node) {
        Connection old = connections.getAndSet(node, null);
        regions.set(node, null);
        if (old != null) {
            old.close();
        }
    }

    /** The smallest region among the connected nodes: every node of a pool is laid out alike. */
    public long smallestRegionBytes() {
        long smallest = Long.MAX_VALUE;
        for (int n = 0; n < regions.length(); n++) {
            RemoteRegion r = regions.get(n);
            if (r != null) {
                smallest = Math.min(smallest, r.sizeBytes());
            }
        }
        if (smallest == Long.MAX_VALUE) {
            throw new IllegalStateException("no memory node of the pool is connected");
        }
        return smallest;
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (int n = 0; n < connections.length(); n++) {
            Connection c = connections.getAndSet(n, null);
            if (c != null) {
                c.close();
            }
        }
    }
}
