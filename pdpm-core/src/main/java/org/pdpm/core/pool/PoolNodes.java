package org.pdpm.core.pool;

import java.util.ArrayList;
import java.util.List;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/** Connections to every memory node of a pool, in pool order; node i of group g is {@code g * R + i}. */
public final class PoolNodes implements AutoCloseable {

    private final List<NodeAddress> addresses;
    private final List<Connection> connections;
    private final List<RemoteRegion> regions;

    private PoolNodes(List<NodeAddress> addresses, List<Connection> connections) {
        this.addresses = List.copyOf(addresses);
        this.connections = List.copyOf(connections);
        this.regions = connections.stream().map(c -> c.node().firstRegion()).toList();
    }

    /** Connects to every node; closes what it opened when one connection fails. */
    public static PoolNodes connect(Fabric fabric, List<NodeAddress> addresses) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("a pool needs at least one memory node");
        }
        List<Connection> opened = new ArrayList<>();
        try {
            for (NodeAddress a : addresses) {
                opened.add(fabric.connect(a));
            }
        } catch (RuntimeException e) {
            opened.forEach(Connection::close);
            throw e;
        }
        return new PoolNodes(addresses, opened);
    }

    public int size() {
        return connections.size();
    }

    public Connection connection(int node) {
        return connections.get(node);
    }

    public RemoteRegion region(int node) {
        return regions.get(node);
    }

    public NodeAddress address(int node) {
        return addresses.get(node);
    }

    /** The smallest region in the pool: every node of a pool is laid out alike. */
    public long smallestRegionBytes() {
        return regions.stream().mapToLong(RemoteRegion::sizeBytes).min().orElseThrow();
    }

    @Override
    public void close() {
        connections.forEach(Connection::close);
    }
}
