package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.pdpm.core.api.SpaceExhaustedException;

/** {@link CloverStore#putAll}: overwrites and new keys share two round trips each, and everything else still lands right. */
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
            store.putAll(first);
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

    @ParameterizedTest(name = "replication {0}")
    @ValueSource(ints = {1, 2})
    void newKeysShareTwoRoundTrips(int replication) {
        try (LocalPool pool = new LocalPool(replication * 2, replication, 8 << 20)) {
            CloverStore store = pool.client();
            store.put(b("warm-up"), b("takes this client's first blocks"));
            List<KvEntry> batch = new ArrayList<>();
            for (int k = 0; k < 200; k++) {
                batch.add(new KvEntry(b("k" + k), b("v" + k)));
            }
            KvStats before = store.stats();
            store.putAll(batch);
            KvStats created = store.stats().minus(before);
            assertThat(created.puts()).isEqualTo(200);
            // the first versions to every replica, then one call that creates all 200 keys
            assertThat(created.putRoundTrips()).isEqualTo(2);
            CloverStore reader = pool.client();
            for (int k = 0; k < 200; k++) {
                assertThat(reader.get(b("k" + k))).isEqualTo(b("v" + k));
            }
            store.putAll(List.of(new KvEntry(b("k7"), b("overwritten"))));
            assertThat(reader.get(b("k7"))).isEqualTo(b("overwritten"));
        }
    }

    /** Keys another client created (or a batch names twice) are appended to, not created again. */
    @Test
    void keysThisClientDoesNotKnowAreAppendedToAndRepeatsWriteTheLastValue() {
        try (LocalPool pool = new LocalPool(1, 1, 8 << 20)) {
            CloverStore other = pool.client();
            other.put(b("theirs"), b("1"));
            CloverStore store = pool.client();
            store.putAll(List.of(new KvEntry(b("theirs"), b("2")), new KvEntry(b("mine"), b("a")),
                    new KvEntry(b("mine"), b("b")), new KvEntry(b("gone"), b("x")), new KvEntry(b("gone"), null)));
            CloverStore reader = pool.client();
            assertThat(reader.get(b("theirs"))).isEqualTo(b("2"));
            assertThat(reader.get(b("mine"))).isEqualTo(b("b"));
            assertThat(reader.get(b("gone"))).isNull();
            other.put(b("theirs"), b("3"));                   // its stale cursor still finds the tail
            assertThat(reader.get(b("theirs"))).isEqualTo(b("3"));
            assertThat(pool.metadata.createAll(List.of(b("mine"), b("mine")), new long[] {1, 2}))
                    .extracting(MetadataService.KeyLocation::created).containsExactly(false, false);
            // Asked again with the very version it was created with (a batch that failed after creating it).
            long head = pool.metadata.lookup(b("theirs")).head();
            assertThat(pool.metadata.create(b("theirs"), head).created()).isTrue();
            assertThat(reader.get(b("theirs"))).isEqualTo(b("3"));
        }
    }

    /** A batch of new keys that does not fit the shortcut table creates exactly the keys that fit. */
    @Test
    void aFullShortcutTableCreatesExactlyTheKeysThatFit() {
        MetadataServer.Options small = new MetadataServer.Options(1, 1 << 20, 100, 64 << 10, 50);
        try (LocalPool pool = new LocalPool(1, 8 << 20, small)) {
            CloverStore store = pool.client();
            for (int k = 0; k < 90; k++) {
                store.put(b("existing" + k), b("e"));
            }
            List<KvEntry> batch = new ArrayList<>();
            for (int k = 0; k < 20; k++) {
                batch.add(new KvEntry(b("new" + k), b("n" + k)));
            }
            assertThatThrownBy(() -> store.putAll(batch)).isInstanceOf(SpaceExhaustedException.class)
                    .hasMessageContaining("at most 100 keys");
            CloverStore reader = pool.client();
            for (int k = 0; k < 20; k++) {
                assertThat(reader.get(b("new" + k))).as("new%d", k).isEqualTo(k < 10 ? b("n" + k) : null);
            }
            store.delete(b("existing0"));
            store.drainNotices();                             // the server removes the key in the background
            pool.metadata.awaitCollections();
            store.putAll(List.of(new KvEntry(b("new10"), b("fits now"))));
            assertThat(reader.get(b("new10"))).isEqualTo(b("fits now"));
        }
    }

    @Test
    void theServerRefusesOversizedBatchesOfCreates() {
        try (LocalPool pool = new LocalPool(1, 1, 8 << 20)) {
            List<byte[]> tooMany = new ArrayList<>();
            for (int k = 0; k <= MetadataService.MAX_CREATE_ALL; k++) {
                tooMany.add(b("k" + k));
            }
            assertThatThrownBy(() -> pool.metadata.createAll(tooMany, new long[tooMany.size()]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 256 keys");
            assertThatThrownBy(() -> pool.metadata.createAll(List.of(b("a")), new long[2]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 keys and 2 heads");
            List<byte[]> huge = List.of(new byte[600 << 10], new byte[600 << 10]);
            assertThatThrownBy(() -> pool.metadata.createAll(huge, new long[2]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes of keys");
            assertThat(pool.metadata.lookup(b("k0"))).isNull();
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

    /** Two clients create the same new keys in batches at once: each key is created once and holds one whole value. */
    @Test
    void racingBatchesOfTheSameNewKeysCreateEachOnce() throws Exception {
        try (LocalPool pool = new LocalPool(2, 2, 16 << 20)) {
            CloverStore a = pool.client();
            CloverStore c = pool.client();
            inTwoRacingThreads(a, c, (s, who) -> {
                for (int round = 0; round < 10; round++) {
                    List<KvEntry> batch = new ArrayList<>();
                    for (int k = 0; k < 50; k++) {
                        batch.add(new KvEntry(b("r" + round + "k" + k), b(who)));
                    }
                    s.putAll(batch);
                }
            });
            CloverStore reader = pool.client();
            for (int round = 0; round < 10; round++) {
                for (int k = 0; k < 50; k++) {
                    byte[] key = b("r" + round + "k" + k);
                    assertThat(new String(reader.get(key), StandardCharsets.UTF_8)).isIn("a", "c");
                    assertThat(a.get(key)).isEqualTo(c.get(key)).isEqualTo(reader.get(key));
                }
            }
            a.put(b("r0k0"), b("after"));
            assertThat(c.get(b("r0k0"))).isEqualTo(b("after"));
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
            inTwoRacingThreads(a, c, (s, who) -> {
                for (int round = 0; round < 20; round++) {
                    List<KvEntry> batch = new ArrayList<>();
                    for (int k = 0; k < 100; k++) {
                        batch.add(new KvEntry(b("k" + k), b(who + round)));
                    }
                    s.putAll(batch);
                }
            });
            CloverStore reader = pool.client();
            for (int k = 0; k < 100; k++) {
                assertThat(new String(reader.get(b("k" + k)), StandardCharsets.UTF_8)).isIn("a19", "c19");
                assertThat(a.get(b("k" + k))).isEqualTo(reader.get(b("k" + k)));
            }
        }
    }

    private interface Racer {
        void run(CloverStore store, String who) throws Exception;
    }

    /** Runs {@code body} for client a (as "a") and client c (as "c") on two threads started at one barrier. */
    private static void inTwoRacingThreads(CloverStore a, CloverStore c, Racer body) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (CloverStore s : List.of(a, c)) {
                String who = s == a ? "a" : "c";
                done.add(threads.submit(() -> {
                    start.await();
                    body.run(s, who);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
