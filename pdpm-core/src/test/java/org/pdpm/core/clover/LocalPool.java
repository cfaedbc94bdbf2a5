package org.pdpm.core.clover;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/** A pool of in-JVM memory nodes with an embedded metadata server, for Clover's tests. */
final class LocalPool implements AutoCloseable {

    final Fabric fabric;
    final List<NodeAddress> nodes = new ArrayList<>();
    final int replication;
    private final MetadataServer.Options options;
    MetadataServer metadata;
    private final List<CloverStore> clients = new ArrayList<>();

    LocalPool(int nodeCount, int replication, long nodeBytes) {
        this(nodeCount, nodeBytes, new MetadataServer.Options(replication, 1 << 20, 1 << 14, 64 << 10, 50));
    }

    LocalPool(int nodeCount, long nodeBytes, MetadataServer.Options options) {
        this(nodeCount, nodeBytes, options, f -> f);
    }

    /** A pool whose server and clients reach the nodes through {@code decorate} (faults injected there). */
    LocalPool(int nodeCount, long nodeBytes, MetadataServer.Options options, Function<LocalFabric, Fabric> decorate) {
        this.options = options;
        int replication = options.replication();
        LocalFabric f = new LocalFabric();
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(f.addNode(nodeBytes));
        }
        this.fabric = decorate.apply(f);
        this.replication = replication;
        this.metadata = MetadataServer.open(fabric, nodes, options());
    }

    MetadataServer.Options options() {
        return options;
    }

    CloverStore client() {
        CloverStore c = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata).open();
        clients.add(c);
        return c;
    }

    /** Stops the metadata server as if it had crashed and starts a new one on the same nodes. */
    MetadataServer restartMetadata() {
        metadata.close();
        metadata = MetadataServer.open(fabric, nodes, options());
        return metadata;
    }

    @Override
    public void close() {
        clients.forEach(CloverStore::close);
        metadata.close();
        fabric.close();
    }
}
