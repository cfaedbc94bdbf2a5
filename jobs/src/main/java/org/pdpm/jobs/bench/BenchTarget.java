package org.pdpm.jobs.bench;

import java.io.IOException;
import java.time.Duration;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.disni.DisniFabric;
import org.pdpm.rdma.local.LocalFabric;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * A connection to a memory node on one fabric, with whatever it took to get there: an in-JVM
 * node for {@code local}; for {@code tcp} the given node, or a child {@code pdpm memnode} started
 * for the run; for {@code disni} the given RDMA node. Closing it closes all of that.
 */
public final class BenchTarget implements AutoCloseable {

    /** Region size of the nodes the benchmark makes itself. */
    private static final long OWN_NODE_BYTES = 64L << 20;

    private static final Duration CHILD_START_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Without {@code --memnodes} there is no RDMA node to measure; connecting where none listens
     * still shows whether DiSNI can run on this machine at all, which is what the run reports.
     */
    private static final NodeAddress DISNI_PROBE = new NodeAddress("127.0.0.1", 1);

    private final Fabric fabric;
    private final Connection connection;
    private final ChildMemoryNode child;

    private BenchTarget(Fabric fabric, Connection connection, ChildMemoryNode child) {
        this.fabric = fabric;
        this.connection = connection;
        this.child = child;
    }

    /**
     * Connects on {@code kind}.
     *
     * @param memnode the node to measure for tcp and disni, or null: tcp then starts its own
     * @param secret the node's secret, or null
     * @param memnodeMainClass main class of the {@code pdpm} command, to start a child memory node
     * @throws FabricException with status UNAVAILABLE when the fabric cannot run on this machine
     */
    public static BenchTarget open(FabricKind kind, NodeAddress memnode, String secret, String memnodeMainClass)
            throws IOException {
        return switch (kind) {
            case LOCAL -> {
                LocalFabric fabric = new LocalFabric();
                yield connect(fabric, fabric.addNode(OWN_NODE_BYTES), null);
            }
            case TCP -> {
                if (memnode != null) {
                    yield connect(new TcpFabric(secret), memnode, null);
                }
                ChildMemoryNode child = ChildMemoryNode.start(memnodeMainClass, OWN_NODE_BYTES, CHILD_START_TIMEOUT);
                try {
                    yield connect(new TcpFabric(child.secret()), child.address(), child);
                } catch (RuntimeException e) {
                    child.close();
                    throw e;
                }
            }
            case DISNI -> {
                try {
                    yield connect(new DisniFabric(), memnode == null ? DISNI_PROBE : memnode, null);
                } catch (FabricException e) {
                    if (memnode == null && e.status() != FabricException.Status.UNAVAILABLE) {
                        throw new FabricException(FabricException.Status.UNAVAILABLE,
                                "DiSNI loads here, but there is no RDMA memory node to measure: give --memnodes ("
                                        + e.getMessage() + ")", e);
                    }
                    throw e;
                }
            }
        };
    }

    private static BenchTarget connect(Fabric fabric, NodeAddress address, ChildMemoryNode child) {
        try {
            return new BenchTarget(fabric, fabric.connect(address), child);
        } catch (RuntimeException e) {
            fabric.close();
            throw e;
        }
    }

    public Connection connection() {
        return connection;
    }

    /** The fabric's own name: {@code local}, {@code tcp} or {@code disni}. */
    public String fabricName() {
        return fabric.name();
    }

    @Override
    public void close() {
        try {
            connection.close();
            fabric.close();
        } finally {
            if (child != null) {
                child.close();
            }
        }
    }
}
