package org.pdpm.rdma.disni;

import com.ibm.disni.RdmaActiveEndpointGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;

/**
 * The fabric on real RDMA NICs (RoCE or InfiniBand) through IBM DiSNI 2.1: one-sided RDMA READ,
 * WRITE, ATOMIC_CMP_AND_SWP and ATOMIC_FETCH_AND_ADD against the region a {@link DisniMemoryNode}
 * registered; each batch is one doorbell. {@code flush} is a READ after the writes on the same
 * queue pair, durable only where the target's DDIO is off (docs/disni.md).
 *
 * <p><b>It cannot run on every machine, and that is expected.</b> It needs libdisni (DiSNI's JNI
 * library, built from source), rdma-core and an RDMA device. Where any of them is missing,
 * {@link #connect} fails with {@link FabricException.Status#UNAVAILABLE} naming what is missing
 * and pointing to the {@code tcp} fabric. This project's CI has no RDMA hardware and its kernel
 * has no Soft-RoCE, so only the parts below the native calls (request layout, atomic operand
 * repair, hello message, staging) are tested there.
 *
 * <p>Bounds: at most {@value #MAX_CONNECTIONS} connections per fabric, since all of them share
 * one completion queue of {@value #COMPLETION_QUEUE_DEPTH} entries sized for a full send queue
 * ({@value DisniConnection#SEND_QUEUE_DEPTH} requests) on each.
 */
public final class DisniFabric implements Fabric {

    public static final int MAX_CONNECTIONS = 16;
    static final int COMPLETION_QUEUE_DEPTH = MAX_CONNECTIONS * DisniConnection.SEND_QUEUE_DEPTH;
    /** How long DiSNI's CM and CQ threads block in one wait, in milliseconds. */
    private static final int EVENT_POLL_MILLIS = 1000;

    private final long timeoutNanos;
    private final List<DisniConnection> connections = new CopyOnWriteArrayList<>();
    private final ExecutorService completer;
    private final ExecutorService connector;
    private RdmaActiveEndpointGroup<DisniEndpoint> group;
    private boolean closed;

    public DisniFabric() {
        this(Duration.ofSeconds(30));
    }

    /** @param timeout how long connection set-up and blocking verbs wait before RETRY_EXCEEDED */
    public DisniFabric(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be positive");
        }
        this.completer = Executors.newSingleThreadExecutor(daemon("pdpm-disni-completions"));
        this.connector = Executors.newCachedThreadPool(daemon("pdpm-disni-connect"));
    }

    /** A started group of endpoints sharing one completion queue per device, with blocking CQ threads. */
    static RdmaActiveEndpointGroup<DisniEndpoint> startGroup(int sendQueueDepth, int completionQueueDepth)
            throws IOException {
        RdmaActiveEndpointGroup<DisniEndpoint> g =
                new RdmaActiveEndpointGroup<>(EVENT_POLL_MILLIS, false, sendQueueDepth, 1, completionQueueDepth);
        g.init((id, serverSide) -> new DisniEndpoint(g, id, serverSide));
        return g;
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String name() {
        return "disni";
    }

    @Override
    public Connection connect(NodeAddress address) {
        RdmaActiveEndpointGroup<DisniEndpoint> g = group();
        if (connections.size() >= MAX_CONNECTIONS) {
            throw new FabricException(FabricException.Status.CONNECTION_REFUSED,
                    "a disni fabric opens at most " + MAX_CONNECTIONS + " connections (they share one completion queue)");
        }
        DisniConnection c = DisniConnection.open(g, address, timeoutNanos, completer, connector, connections::remove);
        connections.add(c);
        return c;
    }

    private synchronized RdmaActiveEndpointGroup<DisniEndpoint> group() {
        if (closed) {
            throw new FabricException(FabricException.Status.FLUSHED, "the disni fabric is closed");
        }
        if (group == null) {
            String incompatible = AtomicOperandPatch.incompatibility();
            if (incompatible != null) {
                throw new FabricException(FabricException.Status.UNAVAILABLE, "the DiSNI on the class path is not "
                        + "DiSNI 2.1, whose atomic requests this fabric repairs: " + incompatible);
            }
            group = DisniNative.openGroup(() -> startGroup(DisniConnection.SEND_QUEUE_DEPTH, COMPLETION_QUEUE_DEPTH),
                    "connect");
        }
        return group;
    }

    @Override
    public void close() {
        RdmaActiveEndpointGroup<DisniEndpoint> g;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            g = group;
        }
        for (DisniConnection c : connections) {
            c.close();
        }
        if (g != null) {
            try {
                g.close();
            } catch (IOException e) {
                // Every endpoint of the group is closed above; only DiSNI's CM and CQ threads remain to stop.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        connector.shutdownNow();
        completer.shutdown();
    }
}
