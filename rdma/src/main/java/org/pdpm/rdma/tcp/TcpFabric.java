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
     */
    public record Options(String secret, Duration connectTimeout, Duration operationTimeout) {
        public static Options withSecret(String secret) {
            return new Options(secret, Duration.ofSeconds(5), Duration.ofSeconds(30));
        }
    }

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
