package org.pdpm.flink.backend;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.ReferenceKvStore;
import org.pdpm.core.api.SpaceExhaustedException;

class WriteBehindStoreTest {

    private final RecordingStore store = new RecordingStore();

    @Test
    void readsSeeBufferedWritesBeforeTheStoreDoes() {
        WriteBehindStore w = new WriteBehindStore(store, 1 << 20, 0);
        store.put(b("a"), b("old"));
        store.put(b("gone"), b("x"));
        w.put(b("a"), b("new"));
        w.put(b("empty"), new byte[0]);
        w.delete(b("gone"));

        assertThat(w.get(b("a"))).isEqualTo(b("new"));
        assertThat(w.get(b("empty"))).isEmpty();        // an empty value is a value, not a delete
        assertThat(w.get(b("gone"))).isNull();
        assertThat(w.getAll(List.of(b("gone"), b("a"), b("absent")))).containsExactly(null, b("new"), null);
        assertThat(store.get(b("a"))).isEqualTo(b("old"));   // nothing written yet
        assertThat(store.putAlls.get()).isZero();
    }

    @Test
    void theCallersArraysMayBeReusedOnceAPutReturns() {
        WriteBehindStore w = new WriteBehindStore(store, 1 << 20, 0);
        byte[] key = b("k");
        byte[] value = b("v1");
        w.put(key, value);
        value[1] = '9';
        key[0] = 'z';
        assertThat(w.get(b("k"))).isEqualTo(b("v1"));
    }

    @Test
    void scansAndEpochEndsSeeEveryWriteMadeSoFar() {
        WriteBehindStore w = new WriteBehindStore(store, 1 << 20, 0);
        store.put(b("p/2"), b("stale"));
        w.put(b("p/1"), b("one"));
        w.delete(b("p/2"));
        w.put(b("q/1"), b("other"));
        List<String> seen = new ArrayList<>();
        try (KvCursor c = w.scan(b("p/"))) {
            while (c.hasNext()) {
                KvEntry e = c.next();
                seen.add(new String(e.key(), UTF_8) + "=" + new String(e.value(), UTF_8));
            }
        }
        assertThat(seen).containsExactly("p/1=one");

        w.put(b("late"), b("x"));
        w.advanceEpoch(2);
        assertThat(store.get(b("late"))).isEqualTo(b("x"));
        assertThat(store.epoch()).isEqualTo(2);
    }

    @Test
    void overwritesCoalesceAndAFullBufferIsWrittenInTheBackground() throws Exception {
        WriteBehindStore w = new WriteBehindStore(store, 4_096, 0);
        for (int round = 0; round < 50; round++) {
            for (int k = 0; k < 20; k++) {
                w.put(b("k" + k), b("v" + round));
            }
        }
        w.flush();
        for (int k = 0; k < 20; k++) {
            assertThat(store.get(b("k" + k))).isEqualTo(b("v49"));
        }
        assertThat(store.entriesWritten.get()).isEqualTo(20);       // 1,000 updates, 20 store writes

        for (int k = 0; k < 200; k++) {          // ~200 * (8 + 96) bytes: several hand-overs
            w.put(b("big" + k), new byte[8]);
        }
        assertThat(store.putAlls.get()).isGreaterThan(2);
        assertThat(store.writerThreads).anyMatch(name -> name.startsWith("pdpm-write-behind"));
    }

    @Test
    void aKeyRewrittenWhileItsBufferIsBeingWrittenEndsWithTheNewerValue() throws Exception {
        WriteBehindStore w = new WriteBehindStore(store, 200, 0);
        CountDownLatch release = new CountDownLatch(1);
        store.blockWrites(release);
        w.put(b("k"), b("first"));
        w.put(b("filler"), new byte[200]);            // hands the buffer over; its writer blocks
        assertThat(store.blocked.await(10, TimeUnit.SECONDS)).isTrue();
        w.put(b("k"), b("second"));
        assertThat(w.get(b("k"))).isEqualTo(b("second"));
        assertThat(w.get(b("filler"))).hasSize(200);   // read from the buffer being written
        release.countDown();
        w.flush();
        assertThat(store.get(b("k"))).isEqualTo(b("second"));
    }

    @Test
    void aFailedBackgroundWriteFailsEveryLaterCallWithTheSameKindOfError() {
        WriteBehindStore w = new WriteBehindStore(store, 100, 0);
        store.failWrites(new SpaceExhaustedException("pool full; pins held: 3"));
        assertThatThrownBy(() -> {
            for (int k = 0; k < 100; k++) {
                w.put(b("k" + k), new byte[50]);
            }
        }).isInstanceOf(SpaceExhaustedException.class).hasMessageContaining("pins held");
        assertThatThrownBy(() -> w.get(b("k0"))).isInstanceOf(SpaceExhaustedException.class)
                .hasMessageContaining("must restore from its last checkpoint");
        assertThatThrownBy(() -> w.advanceEpoch(2)).isInstanceOf(SpaceExhaustedException.class);
        assertThat(store.epoch()).isEqualTo(1);        // the epoch with lost writes is never ended
    }

    @Test
    void buffersSharingABudgetHandOverOnceTogetherTheyHoldIt() throws Exception {
        HeapBudget budget = new HeapBudget(2_000);
        RecordingStore other = new RecordingStore();
        WriteBehindStore a = new WriteBehindStore(store, 1 << 20, budget, new ReadCache(0, budget));
        WriteBehindStore b = new WriteBehindStore(other, 1 << 20, budget, new ReadCache(0, budget));
        for (int k = 0; k < 5; k++) {                 // 5 * (2 + 100 + 96): about half the budget
            a.put(b("a" + k), new byte[100]);
        }
        assertThat(store.putAlls.get()).isZero();
        for (int k = 0; k < 6; k++) {                 // together past it: b hands its buffer over
            b.put(b("b" + k), new byte[100]);
        }
        b.flush();
        assertThat(other.putAlls.get()).isPositive();
        assertThat(budget.used()).isEqualTo(5 * (2 + 100 + 96));   // b's written and released
        a.close();
        assertThat(budget.used()).isZero();           // a closed buffer gives its bytes back
    }

    @Test
    void aLargeBatchTheCallerWaitsForIsWrittenByTwoThreads() {
        WriteBehindStore w = new WriteBehindStore(store, 64 << 20, 0);
        int n = WriteBehindStore.SPLIT_ENTRIES * 2;
        for (int k = 0; k < n; k++) {
            w.put(b("k" + k), b("v" + k));
        }
        w.advanceEpoch(2);
        assertThat(store.entriesWritten.get()).isEqualTo(n);
        assertThat(store.writerThreads).hasSize(2).contains(Thread.currentThread().getName())
                .anyMatch(name -> name.startsWith("pdpm-write-behind"));
        for (int k = 0; k < n; k += 997) {
            assertThat(store.get(b("k" + k))).isEqualTo(b("v" + k));
        }
    }

    @Test
    void withoutABufferEveryWriteGoesThrough() {
        WriteBehindStore w = new WriteBehindStore(store, 0, 0);
        w.put(b("a"), b("1"));
        assertThat(store.get(b("a"))).isEqualTo(b("1"));
        w.delete(b("a"));
        assertThat(store.get(b("a"))).isNull();
    }

    @Test
    void badKeysAndValuesFailAtTheCallNotLater() {
        WriteBehindStore w = new WriteBehindStore(store, 1 << 20, 0);
        assertThatThrownBy(() -> w.put(new byte[0], b("v"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key length=0");
        assertThatThrownBy(() -> w.put(b("k"), new byte[store.limits().maxValueBytes() + 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxValueBytes");
        w.flush();
        assertThat(store.putAlls.get()).isZero();
    }

    @Test
    void closeWaitsForTheBackgroundWriteThenClosesTheStore() throws Exception {
        WriteBehindStore w = new WriteBehindStore(store, 100, 0);
        CountDownLatch release = new CountDownLatch(1);
        store.blockWrites(release);
        w.put(b("k"), new byte[100]);
        assertThat(store.blocked.await(10, TimeUnit.SECONDS)).isTrue();
        Thread closer = new Thread(w::close);
        closer.start();
        closer.join(200);
        assertThat(closer.isAlive()).isTrue();
        release.countDown();
        closer.join(10_000);
        assertThat(store.closed).isTrue();
        assertThat(store.get(b("k"))).hasSize(100);
    }

    /** Repeated reads of a key are answered from the cache, including that it has no value; writes update it. */
    @Test
    void repeatedReadsAreServedFromTheCacheAndWritesKeepItTrue() {
        WriteBehindStore w = new WriteBehindStore(store, 1 << 20, 1 << 20);
        store.put(b("a"), b("1"));
        assertThat(w.get(b("a"))).isEqualTo(b("1"));
        assertThat(w.get(b("missing"))).isNull();
        int reads = store.gets.get();
        assertThat(w.get(b("a"))).isEqualTo(b("1"));
        assertThat(w.get(b("missing"))).isNull();
        assertThat(w.getAll(List.of(b("a"), b("missing")))).containsExactly(b("1"), null);
        assertThat(store.gets.get()).as("reads that reached the store").isEqualTo(reads);
        w.put(b("a"), b("2"));
        w.put(b("missing"), b("now here"));
        w.flush();                                        // the buffer is empty: the cache answers
        assertThat(w.get(b("a"))).isEqualTo(b("2"));
        assertThat(w.get(b("missing"))).isEqualTo(b("now here"));
        w.delete(b("a"));
        w.flush();
        assertThat(w.get(b("a"))).isNull();
        assertThat(store.get(b("a"))).isNull();
        assertThat(store.gets.get()).isEqualTo(reads + 1);
        assertThat(w.cacheHitsAndMisses()).containsExactly(7, 2);
    }

    /** Written through, a write forgets the cached value first: were the store call to fail, no stale value is left. */
    @Test
    void aWriteThroughForgetsTheCachedValueAndTheNextReadFetchesTheNewOne() {
        WriteBehindStore w = new WriteBehindStore(store, 0, 1 << 20);
        store.put(b("a"), b("1"));
        assertThat(w.get(b("a"))).isEqualTo(b("1"));
        w.put(b("a"), b("2"));
        int reads = store.gets.get();
        assertThat(w.get(b("a"))).isEqualTo(b("2"));
        assertThat(store.gets.get()).isEqualTo(reads + 1);
        assertThat(w.get(b("a"))).isEqualTo(b("2"));
        assertThat(store.gets.get()).isEqualTo(reads + 1);
    }

    /** A cache holds at most its capacity; all caches of a JVM together their budget; closing gives it back. */
    @Test
    void theCacheDropsItsLeastRecentlyUsedEntriesAtItsCapacityAndAtTheBudget() {
        HeapBudget budget = new HeapBudget(10 * (ReadCache.ENTRY_OVERHEAD + 2 + 8));
        ReadCache small = new ReadCache(3 * (ReadCache.ENTRY_OVERHEAD + 2 + 8), budget);
        for (int i = 0; i < 5; i++) {
            small.put(new org.pdpm.core.api.KeyBytes(b("k" + i)), b("value-" + i + "!"));
        }
        small.get(new org.pdpm.core.api.KeyBytes(b("k2")));              // used: k3 is now the eldest
        small.put(new org.pdpm.core.api.KeyBytes(b("k5")), b("value-5!"));
        assertThat(small.get(new org.pdpm.core.api.KeyBytes(b("k3")))).isNull();
        assertThat(small.get(new org.pdpm.core.api.KeyBytes(b("k2")))).isEqualTo(b("value-2!"));
        assertThat(small.bytes()).isEqualTo(3L * (ReadCache.ENTRY_OVERHEAD + 2 + 8));

        ReadCache big = new ReadCache(1 << 20, budget);
        for (int i = 0; i < 20; i++) {
            big.put(new org.pdpm.core.api.KeyBytes(b("b" + i)), b("value-" + i % 10 + "!"));
        }
        assertThat(budget.used()).as("both caches within the shared budget").isLessThanOrEqualTo(10L
                * (ReadCache.ENTRY_OVERHEAD + 2 + 8) + ReadCache.ENTRY_OVERHEAD + 3 + 8);
        assertThat(big.get(new org.pdpm.core.api.KeyBytes(b("b19")))).isEqualTo(b("value-9!"));
        small.clear();
        big.clear();
        assertThat(budget.used()).isZero();
    }

    /** A full cache admits a key only on its second miss, so a working set larger than it does not churn it. */
    @Test
    void aFullCacheAdmitsOnlyKeysMissedTwice() {
        ReadCache cache = new ReadCache(2 * (ReadCache.ENTRY_OVERHEAD + 2 + 8), new HeapBudget(1 << 20));
        org.pdpm.core.api.KeyBytes a = new org.pdpm.core.api.KeyBytes(b("ka"));
        assertThat(cache.admits(a)).as("room left").isTrue();
        cache.put(a, b("value-a!"));
        cache.put(new org.pdpm.core.api.KeyBytes(b("kb")), b("value-b!"));
        org.pdpm.core.api.KeyBytes c = new org.pdpm.core.api.KeyBytes(b("kc"));
        assertThat(cache.admits(c)).as("full: a first miss").isFalse();
        assertThat(cache.admits(c)).as("full: the second miss").isTrue();
        assertThat(cache.admits(c)).as("and counted afresh after").isFalse();
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    /** A reference store as a lineage client, counting and optionally blocking or failing batch writes. */
    private static final class RecordingStore implements LineageStore {
        private final ReferenceKvStore data = new ReferenceKvStore(new KvLimits(64, 1_024));
        final AtomicInteger putAlls = new AtomicInteger();
        final AtomicInteger entriesWritten = new AtomicInteger();
        final List<String> writerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
        final CountDownLatch blocked = new CountDownLatch(1);
        private final AtomicReference<CountDownLatch> gate = new AtomicReference<>();
        private volatile RuntimeException failure;
        private volatile long epoch = 1;
        volatile boolean closed;

        void blockWrites(CountDownLatch release) {
            gate.set(release);
        }

        void failWrites(RuntimeException e) {
            failure = e;
        }

        @Override
        public void putAll(List<KvEntry> entries) {
            writerThreads.add(Thread.currentThread().getName());
            CountDownLatch g = gate.getAndSet(null);
            if (g != null) {
                blocked.countDown();
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failure != null) {
                throw failure;
            }
            putAlls.incrementAndGet();
            entriesWritten.addAndGet(entries.size());
            data.putAll(entries);
        }

        final AtomicInteger gets = new AtomicInteger();

        @Override
        public byte[] get(byte[] key) {
            gets.incrementAndGet();
            return data.get(key);
        }

        @Override
        public void put(byte[] key, byte[] value) {
            data.put(key, value);
        }

        @Override
        public void delete(byte[] key) {
            data.delete(key);
        }

        @Override
        public KvCursor scan(byte[] prefix) {
            return data.scan(prefix);
        }

        @Override
        public KvLimits limits() {
            return data.limits();
        }

        @Override
        public KvStats stats() {
            return data.stats();
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public int lineage() {
            return 7;
        }

        @Override
        public long epoch() {
            return epoch;
        }

        @Override
        public void advanceEpoch(long next) {
            epoch = next;
        }

        @Override
        public KvSnapshot asOf(int lineage, long epoch) {
            throw new IllegalStateException("no pinned points in this test store");
        }
    }
}
