package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStats;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * Round trips per operation, read from the counters (DESIGN §3's table for pDPM-Direct: GET 1,
 * PUT 4 — CAS lock, WRITE log ×R, WRITE slot ×R, unlock — whatever R). Budget: about 2 s.
 */
class DirectRoundTripTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2, 3})
    void commonCaseCostsOneRoundTripPerGetAndFourPerPut(int replication) {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = new ArrayList<>();
            for (int i = 0; i < 2 * replication; i++) {
                nodes.add(fabric.addNode(4 << 20));
            }
            try (DirectStore store = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(replication)
                    .limits(new KvLimits(64, 256)).open()) {
                for (int k = 0; k < 20; k++) {
                    store.put(b("k" + k), b("first"));
                }

                KvStats before = store.stats();
                for (int i = 0; i < 100; i++) {
                    store.put(b("k" + (i % 20)), b("v" + i));
                }
                KvStats overwrites = store.stats().minus(before);
                assertThat(overwrites.puts()).isEqualTo(100);
                assertThat(overwrites.roundTripsPerPut()).isEqualTo(4.0);
                // CAS + flush per replica and one READ; then write + flush per replica, twice; then CAS + flush.
                assertThat(overwrites.verbs()).isEqualTo(100L * (8 * replication + 1));

                before = store.stats();
                for (int i = 0; i < 100; i++) {
                    assertThat(store.get(b("k" + (i % 20)))).isEqualTo(b("v" + (80 + i % 20)));
                }
                KvStats reads = store.stats().minus(before);
                assertThat(reads.roundTripsPerGet()).isEqualTo(1.0);
                assertThat(reads.verbs()).isEqualTo(100);

                List<byte[]> keys = new ArrayList<>();
                for (int k = 0; k < 20; k++) {
                    keys.add(b("k" + k));
                }
                before = store.stats();
                assertThat(store.getAll(keys)).hasSize(20).doesNotContainNull();
                assertThat(store.stats().minus(before).getRoundTrips()).as("20 cached keys read together").isEqualTo(1);
            }
        }
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void aColdReaderFindsAKeyAtItsHomeSlotInOneRoundTrip(int replication) {
        try (LocalFabric fabric = new LocalFabric()) {
            List<NodeAddress> nodes = new ArrayList<>();
            for (int i = 0; i < replication; i++) {
                nodes.add(fabric.addNode(4 << 20));
            }
            DirectStore.Builder builder = DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(replication)
                    .limits(new KvLimits(64, 256));
            try (DirectStore writer = builder.open(); DirectStore reader = builder.open()) {
                writer.put(b("alone"), b("at home"));
                KvStats before = reader.stats();
                assertThat(reader.get(b("alone"))).isEqualTo(b("at home"));
                assertThat(reader.get(b("never written"))).isNull();
                assertThat(reader.stats().minus(before).getRoundTrips()).isEqualTo(2);
            }
        }
    }
}
