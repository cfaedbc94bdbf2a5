package org.pdpm.rdma.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.api.RoundTrip;
import org.pdpm.rdma.api.TrafficCounter;

/** The injected latency is paid once per round trip, and a removed node answers with a clear error. */
class LocalFabricLatencyTest {

    @Test
    void injectedLatencyDelaysEveryRoundTripButNotEachVerb() {
        Duration latency = Duration.ofMillis(20);
        try (LocalFabric fabric = new LocalFabric(latency)) {
            NodeAddress a = fabric.addNode(4096);
            NodeAddress b = fabric.addNode(4096);
            Connection ca = fabric.connect(a);
            Connection cb = fabric.connect(b);
            RemoteRegion ra = ca.node().firstRegion();
            RemoteRegion rb = cb.node().firstRegion();

            long t0 = System.nanoTime();
            ca.write(ra, 0, new byte[8]);
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(latency.toNanos());

            // 64 verbs in one batch on each of two nodes, awaited together: one delay, not 128 or 2.
            TrafficCounter op = new TrafficCounter();
            RoundTrip rt = RoundTrip.on(op);
            Batch ba = new Batch();
            Batch bb = new Batch();
            for (int i = 0; i < 64; i++) {
                ba.fetchAndAdd(ra, 8, 1);
                bb.fetchAndAdd(rb, 8, 1);
            }
            long t1 = System.nanoTime();
            rt.post(ca, ba);
            rt.post(cb, bb);
            rt.await();
            long elapsed = System.nanoTime() - t1;
            assertThat(elapsed).isGreaterThanOrEqualTo(latency.toNanos());
            assertThat(op.roundTrips()).isEqualTo(1);
            assertThat(op.verbs()).isEqualTo(128);
            assertThat(ca.fetchAndAdd(ra, 8, 0)).isEqualTo(64);
        }
    }

    @Test
    void aRemovedNodeFailsItsConnectionsWithRetryExceeded() {
        try (LocalFabric fabric = new LocalFabric()) {
            NodeAddress a = fabric.addNode(4096);
            Connection c = fabric.connect(a);
            RemoteRegion r = c.node().firstRegion();
            fabric.removeNode(a);
            try {
                c.read(r, 0, 8);
                throw new AssertionError("read from a removed node succeeded");
            } catch (FabricException e) {
                assertThat(e.status()).isEqualTo(FabricException.Status.RETRY_EXCEEDED);
            }
        }
    }

    @Test
    void negativeLatencyIsRefusedNamingTheValue() {
        try {
            new LocalFabric(Duration.ofMillis(-1)).close();
            throw new AssertionError("negative latency accepted");
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).contains("roundTripLatency=");
        }
    }
}
