package org.pdpm.rdma.memory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * What a passive memory node is: an identity and its registered regions, each with a remote key.
 * Keys are drawn at random each time a region is registered, as an RNIC does, so a client holding
 * a key from before a restart is refused until it reconnects.
 */
public final class NodeMemory implements AutoCloseable {

    private final String nodeId;
    /** Replaced whole, never changed in place: a verb racing {@link #close} sees all its regions or none. */
    private volatile List<Registered> regions = List.of();
    private final SecureRandom random = new SecureRandom();
    private final boolean writeThrough;
    private volatile boolean closed;

    record Registered(RemoteRegion descriptor, RegionMemory memory) {}

    public NodeMemory(String nodeId, boolean writeThrough) {
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.writeThrough = writeThrough;
    }

    /** Registers {@code memory} as the next region and returns its descriptor with a fresh rkey. */
    public synchronized RemoteRegion register(RegionMemory memory) {
        RemoteRegion d = new RemoteRegion(regions.size(), memory.sizeBytes(), random.nextInt());
        List<Registered> grown = new ArrayList<>(regions);
        grown.add(new Registered(d, memory));
        regions = List.copyOf(grown);
        return d;
    }

    /** True once the node is closed: it serves nothing any more, as if it had died. */
    public boolean isClosed() {
        return closed;
    }

    public String nodeId() {
        return nodeId;
    }

    /** Every write is flushed as it lands: the node needs no FLUSH to make data durable. */
    public boolean writeThrough() {
        return writeThrough;
    }

    public synchronized NodeInfo info() {
        return new NodeInfo(nodeId, regions.stream().map(Registered::descriptor).toList());
    }

    /** The region with this id, or null. */
    Registered region(int regionId) {
        List<Registered> r = regions;
        return regionId >= 0 && regionId < r.size() ? r.get(regionId) : null;
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Registered r : regions) {
            r.memory().close();
        }
        regions = List.of();
    }
}
