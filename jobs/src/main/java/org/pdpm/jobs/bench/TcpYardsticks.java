package org.pdpm.jobs.bench;

import java.util.OptionalLong;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * The fabric figures a deployment's runs are held against ({@link StoreDeployment}), measured on
 * its first memory node over connections of their own, so that the clients' counters and
 * connections are left alone. Only on tcp: on local there is no fabric to measure apart from the
 * store's own threads.
 */
final class TcpYardsticks implements AutoCloseable {

    /** The pipeline reads the node's first words. */
    private static final long PIPELINE_OFFSET = 0;

    private final Fabric fabric;
    private final NodeAddress node;
    private Connection probe;

    TcpYardsticks(Fabric fabric, NodeAddress node) {
        this.fabric = fabric;
        this.node = node;
    }

    /** See {@link StoreDeployment#pipelinedFabricReadsPerSecond}. */
    synchronized OptionalLong pipelinedReadsPerSecond(int depth, long warmupNanos, long nanos) {
        if (!(fabric instanceof TcpFabric)) {
            return OptionalLong.empty();
        }
        if (probe == null) {
            probe = fabric.connect(node);
        }
        return OptionalLong.of(FabricBenchmark.pipelinedReadsPerSecond(probe, probe.node().firstRegion(),
                PIPELINE_OFFSET, depth, warmupNanos, nanos));
    }

    /** See {@link StoreDeployment#sameShapeFabricReadsPerSecond}. */
    OptionalLong sameShapeReadsPerSecond(int threads, int inFlight, long warmupNanos, long nanos) {
        return fabric instanceof TcpFabric ? OptionalLong.of(FabricBenchmark.sameShapeReadsPerSecond(fabric, node,
                threads, inFlight, warmupNanos, nanos)) : OptionalLong.empty();
    }

    /** Closes the pipeline's connection; the fabric stays the deployment's. */
    @Override
    public synchronized void close() {
        if (probe != null) {
            probe.close();
            probe = null;
        }
    }
}
