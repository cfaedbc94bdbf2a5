package org.pdpm.rdma.tcp;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;

/** Client side of the tcp fabric: connections to {@code pdpm memnode} daemons. */
public final class TcpFabric implements Fabric {

    /**
     * @param secret           the nodes' shared secret, or null when they require none
     * @param connectTimeout   bound on TCP connect plus handshake
     * @param operationTimeout bound on a blocking wait for a completion
     * @param poll             how long a connection with answers outstanding polls the socket
     *                         before blocking: an RDMA client polls its completion queue; here it
     *                         spares the wake-up of an idle CPU. Zero always blocks.
     * @param shareConnections whether clients of one node share one socket (see {@link #connect})
     */
    public record Options(String secret, Duration connectTimeout, Duration operationTimeout, Duration poll,
                          boolean shareConnections) {
        public Options {
            if (poll.isNegative()) {
                throw new IllegalArgumentException("poll=" + poll + " must not be negative");
            }
        }

        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofNanos(DEFAULT_POLL_NANOS),
                    true);
        }

        /** These options, with a socket of its own for every {@link TcpFabric#connect}. */
        public Options unshared() {
            return new Options(secret, connectTimeout, operationTimeout, poll, false);
        }
    }

    /** Default poll before blocking: a few loopback round trips of an awake machine. */
    public static final long DEFAULT_POLL_NANOS = 50_000;

    private final Options options;
    private final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
    /** Per node: the socket its clients share, and how many use it; guarded by the node's lock. */
    private final Map<NodeAddress, Shared> shared = new ConcurrentHashMap<>();
    private final Map<NodeAddress, Object> nodeLocks = new ConcurrentHashMap<>();

    private static final class Shared {
        final TcpConnection connection;
        int users;

        Shared(TcpConnection connection) {
            this.connection = connection;
        }
    }

    public TcpFabric(String secret) {
        this(Options.withSecret(secret));
    }

    public TcpFabric(Options options) {
        this.options = options;
    }

    @Override
    public String name() {
        return "tcp";
    }

    /**
     * A connection to the node at {@code address}. With {@link Options#shareConnections()} (the
     * default) every client of one node in this fabric shares one socket, as the threads of an RDMA
     * process may share a queue pair: the batches of all clients travel together, and one reader
     * thread and one node session serve them, instead of a pair per client fighting for the CPUs.
     * A shared socket that failed is replaced at the next connect.
     */
    @Override
    public Connection connect(NodeAddress address) {
        if (!options.shareConnections()) {
            return open(address);
        }
        synchronized (nodeLocks.computeIfAbsent(address, a -> new Object())) {
            Shared s = shared.get(address);
            if (s == null || s.connection.isBroken()) {
                s = new Shared(open(address));
                shared.put(address, s);
            }
            s.users++;
            Shared used = s;
            return new SharedConnectionHandle(s.connection, () -> release(address, used));
        }
    }

    private void release(NodeAddress address, Shared s) {
        synchronized (nodeLocks.get(address)) {
            if (--s.users > 0) {
                return;
            }
            shared.remove(address, s);
        }
        s.connection.close();
    }

    private TcpConnection open(NodeAddress address) {
        TcpConnection c = TcpConnection.open(address, options, connections::remove);
        connections.add(c);
        return c;
    }

    @Override
    public void close() {
        for (TcpConnection c : connections) {
            c.close();
        }
    }
}
