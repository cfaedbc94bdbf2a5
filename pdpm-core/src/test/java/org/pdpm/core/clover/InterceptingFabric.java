package org.pdpm.core.clover;

import java.util.concurrent.CompletableFuture;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.TrafficCounter;
import org.pdpm.rdma.local.LocalFabric;

/** The local fabric with a hook in front of every post, where a test injects a fault at one precise verb. */
final class InterceptingFabric implements Fabric {

    /** Sees every batch first: returns its own outcome for it, or null to let it through. */
    interface Interceptor {
        CompletableFuture<BatchResult> intercept(NodeAddress node, Connection real, Batch batch);
    }

    private final LocalFabric local;
    private final Interceptor interceptor;

    InterceptingFabric(LocalFabric local, Interceptor interceptor) {
        this.local = local;
        this.interceptor = interceptor;
    }

    LocalFabric local() {
        return local;
    }

    @Override
    public String name() {
        return local.name();
    }

    @Override
    public Connection connect(NodeAddress address) {
        Connection c = local.connect(address);
        return new Connection() {
            @Override
            public NodeInfo node() {
                return c.node();
            }

            @Override
            public CompletableFuture<BatchResult> post(Batch batch) {
                CompletableFuture<BatchResult> own = interceptor.intercept(address, c, batch);
                return own != null ? own : c.post(batch);
            }

            @Override
            public TrafficCounter stats() {
                return c.stats();
            }

            @Override
            public long timeoutNanos() {
                return c.timeoutNanos();
            }

            @Override
            public void close() {
                c.close();
            }
        };
    }

    @Override
    public void close() {
        local.close();
    }
}
