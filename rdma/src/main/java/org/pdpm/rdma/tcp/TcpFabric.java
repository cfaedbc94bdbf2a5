package org.pdpm.rdma.tcp;

import java.time.Duration;
import java.util.List;
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
     */
    public record Options(String secret, Duration connectTimeout, Duration operationTimeout, Duration poll) {
        public Options {
            if (poll.isNegative()) {
                throw new IllegalArgumentException("poll=" + poll + " must not be negative");
            }
        }

        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofNanos(DEFAULT_POLL_NANOS));
        }
    }

    /** Default poll before blocking: a few loopback round trips of an awake machine. */
    public static final long DEFAULT_POLL_NANOS = 50_000;

    private final Options options;
    private final List<TcpConnection> connections = new CopyOnWriteArrayList<>();

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

    @Override
    public Connection connect(NodeAddress address) {
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
