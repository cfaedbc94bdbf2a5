package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStats;

/** {@link CloverStore#putAll}: overwrites share two round trips, and everything else still lands right. */
class CloverBatchPutTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void overwritesOfWarmKeysShareTwoRoundTrips(int replication) {
        try (LocalPool pool = new LocalPool(replication * 2, replication, 8 << 20)) {
            CloverStore store = pool.client();
            List<KvEntry> first = new ArrayList<>();
            for (int k = 0; k < 200; k++) {
                first.add(new KvEntry(b("k" + k), b("v0")));
            }
            store.putAll(first);                              // new keys: one by one
            List<KvEntry> second = new ArrayList<>();
            for (int k = 0; k < 200; k++) {
                second.add(new KvEntry(b("k" + k), b("v1-" + k)));
            }
            KvStats before = store.stats();
            store.putAll(second);
            KvStats batch = store.stats().minus(before);
            assertThat(batch.puts()).isEqualTo(200);
            // write ×R, CAS on the primaries, and at R = 2 the links copied to the backups
            assertThat(batch.putRoundTrips()).isEqualTo(replication == 1 ? 2 : 3);
            CloverStore reader = pool.client();
            for (int k = 0; k < 200; k++) {
                assertThat(reader.get(b("k" + k))).isEqualTo(b("v1-" + k));
            }
        }
    }

    @Test
    void aBatchBeyondOneFabricBatchIsSplit() {
        try (LocalPool pool = new LocalPool(1, 1, 64 << 20)) {
            CloverStore store = pool.client();
            List<KvEntry> batch = new ArrayList<>();
            for (int k = 0; k < 5_000; k++) {
                store.put(b("k" + k), b("v0"));
                batch.add(new KvEntry(b("k" + k), new byte[k % 7 == 0 ? 4_000 : 10]));
            }
            KvStats before = store.stats();
            store.putAll(batch);                               // 10,000 verbs: more than one batch holds
            // two per fabric batch, plus one per block of space the server grants: far below one per put
            assertThat(store.stats().minus(before).putRoundTrips()).isBetween(4L, 100L);
            for (int k = 0; k < 5_000; k += 499) {
                assertThat(pool.client().get(b("k" + k))).hasSize(k % 7 == 0 ? 4_000 : 10);
            }
        }
    }

    @Test
    void newKeysDeletesAndRepeatsInOneBatchLandAsSinglePutsWould() {
        try (LocalPool pool = new LocalPool(1, 1, 8 << 20)) {
            CloverStore store = pool.client();
            store.put(b("old"), b("1"));
            store.put(b("doomed"), b("1"));
            List<KvEntry> batch = new ArrayList<>();
            batch.add(new KvEntry(b("old"), b("2")));
            batch.add(new KvEntry(b("new"), b("n")));
            batch.add(new KvEntry(b("doomed"), null));
            batch.add(new KvEntry(b("old"), b("3")));         // the same key twice: the later one is last
            store.putAll(batch);
            CloverStore reader = pool.client();
            assertThat(reader.get(b("old"))).isEqualTo(b("3"));
            assertThat(reader.get(b("new"))).isEqualTo(b("n"));
            assertThat(reader.get(b("doomed"))).isNull();
        }
    }

    /** Two clients batch-overwrite the same keys at once: every key ends with one whole value of one of them. */
    @Test
    void racingBatchesLoseNothingAndTearNothing() throws Exception {
        try (LocalPool pool = new LocalPool(2, 2, 16 << 20)) {
            CloverStore a = pool.client();
            CloverStore c = pool.client();
            for (int k = 0; k < 100; k++) {
                a.put(b("k" + k), b("init"));
                c.get(b("k" + k));                            // both hold warm cursors
            }
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (CloverStore s : List.of(a, c)) {
                    String who = s == a ? "a" : "c";
                    done.add(threads.submit(() -> {
                        start.await();
                        for (int round = 0; round < 20; round++) {
                            List<KvEntry> batch = new ArrayList<>();
                            for (int k = 0; k < 100; k++) {
                                batch.add(new KvEntry(b("k" + k), b(who + round)));
                            }
                            s.putAll(batch);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                threads.shutdownNow();
            }
            CloverStore reader = pool.client();
            for (int k = 0; k < 100; k++) {
                assertThat(new String(reader.get(b("k" + k)), StandardCharsets.UTF_8)).isIn("a19", "c19");
                assertThat(a.get(b("k" + k))).isEqualTo(reader.get(b("k" + k)));
            }
        }
    }
}
