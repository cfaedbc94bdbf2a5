package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvStats;

/** Round trips per operation, read from the counters (DESIGN §3's table: GET 1, PUT 2 at R = 1). */
class CloverRoundTripTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2, 3})
    void commonCaseCostsOneRoundTripPerGetAndTwoPerPut(int replication) {
        try (LocalPool pool = new LocalPool(replication * 2, replication, 8 << 20)) {
            CloverStore store = pool.client();
            store.put(b("warm-up"), b("grants this client its first block"));

            KvStats before = store.stats();
            store.put(b("k"), b("v1"));                       // new key: write + create RPC
            KvStats created = store.stats().minus(before);
            assertThat(created.putRoundTrips()).isEqualTo(2);

            before = store.stats();
            for (int i = 0; i < 100; i++) {
                store.put(b("k"), b("v" + i));                // warm: write ×R, CAS (+ link to backups)
            }
            KvStats overwrites = store.stats().minus(before);
            assertThat(overwrites.roundTripsPerPut()).isEqualTo(replication == 1 ? 2.0 : 3.0);

            before = store.stats();
            for (int i = 0; i < 100; i++) {
                assertThat(store.get(b("k"))).isEqualTo(b("v99"));
            }
            assertThat(store.stats().minus(before).roundTripsPerGet()).isEqualTo(1.0);

            before = store.stats();
            List<java.util.concurrent.CompletableFuture<byte[]>> inFlight = new java.util.ArrayList<>();
            for (int i = 0; i < 100; i++) {
                inFlight.add(store.getAsync(b("k")));   // one READ each, all in flight together
            }
            inFlight.forEach(f -> assertThat(f.join()).isEqualTo(b("v99")));
            assertThat(store.stats().minus(before).roundTripsPerGet()).isEqualTo(1.0);
        }
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void aColdReaderPaysOneRpcThenReadsInOne(int replication) {
        try (LocalPool pool = new LocalPool(replication, replication, 8 << 20)) {
            CloverStore writer = pool.client();
            for (int i = 0; i < 20; i++) {
                writer.put(b("key"), b("value " + i));
            }
            CloverStore reader = pool.client();
            KvStats before = reader.stats();
            assertThat(reader.get(b("key"))).isEqualTo(b("value 19"));
            assertThat(reader.stats().minus(before).getRoundTrips()).isEqualTo(2);
            before = reader.stats();
            assertThat(reader.get(b("absent"))).isNull();
            assertThat(reader.stats().minus(before).getRoundTrips()).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void aStaleCursorIntoACollectedVersionCostsOneLookup(int replication) {
        try (LocalPool pool = new LocalPool(replication, replication, 8 << 20)) {
            CloverStore a = pool.client();
            CloverStore b = pool.client();
            b.put(b("b's own"), b("grants b its first block"));
            a.put(b("x"), b("1"));
            assertThat(b.get(b("x"))).isEqualTo(b("1"));
            a.put(b("x"), b("2"));
            a.put(b("x"), b("3"));
            collected(pool, a);
            KvStats before = b.stats();
            // READ finds the cached version unlinked, the server names the tail, READ it.
            assertThat(b.get(b("x"))).isEqualTo(b("3"));
            assertThat(b.stats().minus(before).getRoundTrips()).isEqualTo(3);
            // b's PUT: write, CAS fails on the unlinked tail it cached, lookup, READ the tail's id
            // and position (the CAS must expect its open marker), header rewrite, CAS, and with
            // R > 1 the link to the backup.
            a.put(b("x"), b("4"));
            collected(pool, a);
            before = b.stats();
            b.put(b("x"), b("5"));
            assertThat(b.stats().minus(before).putRoundTrips()).isEqualTo(replication == 1 ? 6 : 7);
            assertThat(a.get(b("x"))).isEqualTo(b("5"));
        }
    }

    private static void collected(LocalPool pool, CloverStore writer) {
        writer.drainNotices();
        pool.metadata.awaitCollections();
    }
}
