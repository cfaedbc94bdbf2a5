package org.pdpm.core.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvStats;

/**
 * Round trips per operation, read from the client's counters (DESIGN §3's table: GET 2, PUT 3 —
 * the RPC plus what the coordinator reports it waited for), and the verbs behind them.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CentralRoundTripTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2, 3})
    void commonCaseCostsTwoRoundTripsPerGetAndThreePerPut(int replication) {
        try (CentralPool pool = new CentralPool(replication * 2, replication, 4 << 20)) {
            CentralStore store = pool.client();
            store.put(b("warm-up"), b("raises the allocation mark once"));

            KvStats before = store.stats();
            store.put(b("k"), b("v0"));                       // new key: RPC, log xR, slot xR
            KvStats created = store.stats().minus(before);
            assertThat(created.putRoundTrips()).isEqualTo(3);
            assertThat(created.verbs()).as("WRITE+FLUSH of the log and of the slot on R nodes").isEqualTo(4L * replication);

            before = store.stats();
            for (int i = 1; i <= 100; i++) {
                store.put(b("k"), b("v" + i));
            }
            KvStats overwrites = store.stats().minus(before);
            assertThat(overwrites.roundTripsPerPut()).isEqualTo(3.0);
            assertThat(overwrites.verbs()).isEqualTo(100L * 4 * replication);

            before = store.stats();
            for (int i = 0; i < 100; i++) {
                assertThat(store.get(b("k"))).isEqualTo(b("v100"));
            }
            KvStats gets = store.stats().minus(before);
            assertThat(gets.roundTripsPerGet()).isEqualTo(2.0);
            assertThat(gets.verbs()).as("one READ of the primary per GET").isEqualTo(100);
            assertThat(gets.bytes()).as("the record: 32-byte header, key, value").isEqualTo(100L * (32 + 1 + 4));

            before = store.stats();
            assertThat(store.get(b("absent"))).isNull();
            assertThat(store.stats().minus(before).getRoundTrips()).as("an absent key costs only the RPC").isEqualTo(1);

            before = store.stats();
            store.delete(b("k"));
            assertThat(store.stats().minus(before).deleteRoundTrips()).isEqualTo(3);
        }
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void aNewSlotBeyondTheAllocationMarkCostsOneMoreRoundTripOncePerStep(int replication) {
        try (CentralPool pool = new CentralPool(replication, replication, 32 << 20)) {
            CentralStore store = pool.client();
            KvStats before = store.stats();
            store.put(b("first"), b("v"));
            assertThat(store.stats().minus(before).putRoundTrips()).as("RPC, mark, log, slot").isEqualTo(4);
            before = store.stats();
            for (int i = 1; i < Coordinator.HIGH_WATER_STEP; i++) {
                store.put(b("key-" + i), b("v"));
            }
            assertThat(store.stats().minus(before).roundTripsPerPut()).isEqualTo(3.0);
            before = store.stats();
            store.put(b("the one past the mark"), b("v"));
            assertThat(store.stats().minus(before).putRoundTrips()).isEqualTo(4);
        }
    }
}
