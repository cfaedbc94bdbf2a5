package org.pdpm.core.rpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * In-JVM memory nodes, an embedded metadata server and a {@link MetadataRpcServer} in front of it;
 * Clover clients reach the metadata server over TCP only.
 */
final class RpcPool implements AutoCloseable {

    static final String SECRET = "rpc-test";

    final LocalFabric fabric = new LocalFabric();
    final List<NodeAddress> nodes = new ArrayList<>();
    final int replication;
    private final UnaryOperator<MetadataService> decorate;
    MetadataServer metadata;
    /** What the RPC server serves: {@link #metadata}, decorated. */
    MetadataService served;
    MetadataRpcServer rpc;
    private int port;
    private boolean running;
    private final List<AutoCloseable> opened = new ArrayList<>();

    RpcPool(int nodeCount, int replication, long nodeBytes) {
        this(nodeCount, replication, nodeBytes, UnaryOperator.identity());
    }

    /** {@code decorate} wraps the embedded server before it is served, to inject failures. */
    RpcPool(int nodeCount, int replication, long nodeBytes, UnaryOperator<MetadataService> decorate) {
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(fabric.addNode(nodeBytes));
        }
        this.replication = replication;
        this.decorate = decorate;
        startServer();
    }

    MetadataServer.Options options() {
        return new MetadataServer.Options(replication, 1 << 20, 1 << 14, 64 << 10, 50);
    }

    NodeAddress address() {
        return new NodeAddress("127.0.0.1", port);
    }

    RemoteMetadataService remote(String secret) {
        RemoteMetadataService r = new RemoteMetadataService(address(), RemoteMetadataService.Options.withSecret(secret));
        opened.add(r);
        return r;
    }

    CloverStore client(RemoteMetadataService remote) {
        CloverStore c = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(remote).open();
        opened.add(c);
        return c;
    }

    CloverStore client() {
        return client(remote(SECRET));
    }

    /** The metadata server goes away as if its process died: listener, connections and state. */
    void stopServer() {
        if (running) {
            running = false;
            rpc.close();
            metadata.close();
        }
    }

    /** A new metadata server on the same nodes, listening on the same port as before. */
    void startServer() {
        metadata = MetadataServer.open(fabric, nodes, options());
        try {
            served = decorate.apply(metadata);
            rpc = MetadataRpcServer.start(served,
                    MetadataRpcServer.Config.of(new InetSocketAddress("127.0.0.1", port), SECRET));
        } catch (IOException e) {
            metadata.close();
            throw new UncheckedIOException(e);
        }
        port = rpc.boundAddress().getPort();
        running = true;
    }

    @Override
    public void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        stopServer();
        fabric.close();
    }
}
