package org.pdpm.core.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.api.Keys.bytes;
import static org.pdpm.core.api.Keys.utf8;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every {@link KvStore} must do, run against each implementation by a subclass that says how
 * to open one. Each test gets a fresh, empty store from {@link #openStore()} and closes it after;
 * stores that can be opened again on the same data override {@link #closeAndReopen} so that the
 * durability of acknowledged writes is tested too.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class KvStoreContractTest {

    /** The store under test; tests that reopen it replace it, so the current one is closed after. */
    protected KvStore store;

    /** A new, empty store. Resources it needs besides itself are the subclass's to release. */
    protected abstract KvStore openStore() throws Exception;

    /**
     * Closes {@code current} and opens a store on the same data, as a restart would. Stores that
     * cannot do that keep this default, which skips the durability tests and says why.
     */
    protected KvStore closeAndReopen(KvStore current) throws Exception {
        return Assumptions.abort(getClass().getSimpleName()
                + " does not override closeAndReopen, so durability across a restart is not tested on it");
    }

    @BeforeEach
    void openTheStore() throws Exception {
        store = openStore();
    }

    @AfterEach
    void closeTheStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- single keys

    @Test
    void getOfAnAbsentKeyIsNull() {
        assertThat(store.get(utf8("absent"))).isNull();
    }

    @Test
    void getReturnsWhatPutWrote() {
        store.put(utf8("k"), utf8("v"));
        assertThat(store.get(utf8("k"))).isEqualTo(utf8("v"));
    }

    @Test
    void putOverwrites() {
        store.put(utf8("k"), utf8("first"));
        store.put(utf8("k"), utf8("second, longer than the first"));
        store.put(utf8("k"), utf8("3rd"));
        assertThat(store.get(utf8("k"))).isEqualTo(utf8("3rd"));
    }

    @Test
    void deleteRemovesTheKeyAndItCanBeWrittenAgain() {
        store.put(utf8("k"), utf8("v"));
        store.put(utf8("other"), utf8("stays"));
        store.delete(utf8("k"));
        assertThat(store.get(utf8("k"))).isNull();
        assertThat(store.get(utf8("other"))).isEqualTo(utf8("stays"));

        store.put(utf8("k"), utf8("again"));
        assertThat(store.get(utf8("k"))).isEqualTo(utf8("again"));
    }

    @Test
    void deleteOfAnAbsentKeyIsNotAnError() {
        store.delete(utf8("never written"));
        store.put(utf8("k"), utf8("v"));
        store.delete(utf8("k"));
        store.delete(utf8("k"));
        assertThat(store.get(utf8("k"))).isNull();
        assertThat(store.get(utf8("never written"))).isNull();
    }

    @Test
    void anEmptyValueIsAValueNotAnAbsence() {
        store.put(utf8("k"), new byte[0]);
        assertThat(store.get(utf8("k"))).isNotNull().isEmpty();
        assertThat(store.getAll(List.of(utf8("k"))).get(0)).isNotNull().isEmpty();
        assertThat(scan(utf8("k"))).singleElement().satisfies(e -> assertThat(e.value()).isEmpty());
    }

    @Test
    void keysDifferingOnlyInHighOrZeroBytesAreDistinct() {
        byte[][] keys = {bytes(0x00), bytes(0x00, 0x00), bytes(0x80), bytes(0xFF), bytes(0x7F), utf8("a"), bytes('a', 0)};
        for (int i = 0; i < keys.length; i++) {
            store.put(keys[i], utf8("v" + i));
        }
        for (int i = 0; i < keys.length; i++) {
            assertThat(store.get(keys[i])).as("key=%s", Keys.show(keys[i])).isEqualTo(utf8("v" + i));
        }
    }

    // ---------------------------------------------------------------- limits

    @Test
    void aKeyOfExactlyMaxKeyBytesWorksAndOneMoreFails() {
        int max = store.limits().maxKeyBytes();
        byte[] atLimit = filled(max, 'k');
        store.put(atLimit, utf8("v"));
        assertThat(store.get(atLimit)).isEqualTo(utf8("v"));
        assertThat(scan(atLimit)).hasSize(1);
        store.delete(atLimit);
        assertThat(store.get(atLimit)).isNull();

        byte[] tooLong = filled(max + 1, 'k');
        String bound = "maxKeyBytes=" + max;
        assertThatThrownBy(() -> store.put(tooLong, utf8("v"))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThatThrownBy(() -> store.get(tooLong)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThatThrownBy(() -> store.delete(tooLong)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThatThrownBy(() -> store.getAll(List.of(utf8("fine"), tooLong)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThatThrownBy(() -> store.putAll(List.of(new KvEntry(tooLong, utf8("v")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThatThrownBy(() -> store.scan(tooLong)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bound);
        assertThat(scan(new byte[0])).isEmpty();
    }

    @Test
    void aValueOfExactlyMaxValueBytesWorksAndOneMoreFailsLeavingTheOldValue() {
        int max = store.limits().maxValueBytes();
        byte[] atLimit = new byte[max];
        new Random(7).nextBytes(atLimit);
        store.put(utf8("k"), atLimit);
        assertThat(store.get(utf8("k"))).isEqualTo(atLimit);

        byte[] tooLarge = new byte[max + 1];
        assertThatThrownBy(() -> store.put(utf8("k"), tooLarge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxValueBytes=" + max);
        assertThatThrownBy(() -> store.putAll(List.of(new KvEntry(utf8("k2"), tooLarge))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxValueBytes=" + max);
        assertThat(store.get(utf8("k"))).isEqualTo(atLimit);
        assertThat(store.get(utf8("k2"))).isNull();
    }

    @Test
    void nullAndEmptyKeysAndNullValuesAreRejected() {
        byte[] empty = new byte[0];
        assertThatThrownBy(() -> store.get(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.put(null, utf8("v"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.scan(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(empty)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes=");
        assertThatThrownBy(() -> store.put(empty, utf8("v"))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes=");
        assertThatThrownBy(() -> store.delete(empty)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes=");
        assertThatThrownBy(() -> store.put(utf8("k"), null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.get(utf8("k"))).isNull();
    }

    // ---------------------------------------------------------------- batches

    @Test
    void getAllReturnsValuesInPositionWithNullForAbsentKeys() {
        store.put(utf8("a"), utf8("1"));
        store.put(utf8("c"), utf8("3"));
        List<byte[]> values = store.getAll(List.of(utf8("c"), utf8("b"), utf8("a"), utf8("c"), utf8("zz")));
        assertThat(values).hasSize(5);
        assertThat(values.get(0)).isEqualTo(utf8("3"));
        assertThat(values.get(1)).isNull();
        assertThat(values.get(2)).isEqualTo(utf8("1"));
        assertThat(values.get(3)).isEqualTo(utf8("3"));
        assertThat(values.get(4)).isNull();
        assertThat(store.getAll(List.of())).isEmpty();
    }

    @Test
    void getAsyncAnswersAsGetDoesWithManyInFlight() throws Exception {
        for (int i = 0; i < 50; i++) {
            store.put(utf8("async" + i), utf8("v" + i));
        }
        store.delete(utf8("async7"));
        for (int i = 0; i < 50; i++) {
            store.get(utf8("async" + i));   // warms whatever the store caches
        }
        store.put(utf8("async3"), utf8("changed"));
        List<java.util.concurrent.CompletableFuture<byte[]>> inFlight = new java.util.ArrayList<>();
        for (int i = 0; i < 52; i++) {
            inFlight.add(store.getAsync(utf8("async" + i)));
        }
        for (int i = 0; i < 52; i++) {
            byte[] expected = i == 7 || i >= 50 ? null : utf8(i == 3 ? "changed" : "v" + i);
            assertThat(inFlight.get(i).get(10, java.util.concurrent.TimeUnit.SECONDS)).as("async%d", i)
                    .isEqualTo(expected);
        }
    }

    @Test
    void putAllWritesAndDeletes() {
        store.put(utf8("old1"), utf8("x"));
        store.put(utf8("old2"), utf8("y"));
        store.putAll(List.of(
                new KvEntry(utf8("new1"), utf8("n1")),
                KvEntry.deletion(utf8("old1")),
                new KvEntry(utf8("old2"), utf8("y2")),
                KvEntry.deletion(utf8("never written")),
                new KvEntry(utf8("new2"), new byte[0])));
        store.putAll(List.of());

        List<byte[]> values = store.getAll(List.of(utf8("new1"), utf8("old1"), utf8("old2"), utf8("never written"), utf8("new2")));
        assertThat(values.get(0)).isEqualTo(utf8("n1"));
        assertThat(values.get(1)).isNull();
        assertThat(values.get(2)).isEqualTo(utf8("y2"));
        assertThat(values.get(3)).isNull();
        assertThat(values.get(4)).isEmpty();
        assertThat(scanKeys(new byte[0])).containsExactly("new1", "new2", "old2");
    }

    // ---------------------------------------------------------------- scans

    @Test
    void scanReturnsExactlyTheMatchingKeysInUnsignedOrder() {
        byte[][] keys = {
            utf8("b"), utf8("ab"), bytes('a', 0x80), utf8("a"), bytes('a', 0), bytes('a', 0xFF), utf8("aa"),
            bytes('a', 0, 0), bytes(0x80), bytes(0x7F), bytes('a', 0xFF, 0), utf8("`"), utf8("abc"),
        };
        for (byte[] k : keys) {
            store.put(k, Keys.concat(utf8("value of "), k));
        }

        assertThat(scanKeys(utf8("a"))).containsExactly(
                "a", "a\\x00", "a\\x00\\x00", "aa", "ab", "abc", "a\\x80", "a\\xFF", "a\\xFF\\x00");
        assertThat(scanKeys(bytes('a', 0))).containsExactly("a\\x00", "a\\x00\\x00");
        assertThat(scanKeys(utf8("ab"))).containsExactly("ab", "abc");
        assertThat(scanKeys(utf8("abc"))).containsExactly("abc");
        assertThat(scanKeys(utf8("abcd"))).isEmpty();
        assertThat(scanKeys(bytes('a', 0xFF))).containsExactly("a\\xFF", "a\\xFF\\x00");
        assertThat(scanKeys(utf8("c"))).isEmpty();
        assertThat(scanKeys(new byte[0])).containsExactly(
                "`", "a", "a\\x00", "a\\x00\\x00", "aa", "ab", "abc", "a\\x80", "a\\xFF", "a\\xFF\\x00", "b", "\\x7F", "\\x80");

        for (KvEntry e : scan(new byte[0])) {
            assertThat(e.value()).as("value of %s", Keys.show(e.key())).isEqualTo(Keys.concat(utf8("value of "), e.key()));
        }
    }

    @Test
    void scanOfPrefixesEndingInFFRunsToTheEndOfTheirRange() {
        byte[][] keys = {bytes(0xFE), bytes(0xFE, 0xFF), bytes(0xFF), bytes(0xFF, 0x00), bytes(0xFF, 0xFF), bytes(0xFF, 0xFF, 0x01),
            bytes(0xFF, 0xFF, 0xFF, 0xFF)};
        for (byte[] k : keys) {
            store.put(k, k);
        }
        assertThat(scanKeys(bytes(0xFF))).containsExactly("\\xFF", "\\xFF\\x00", "\\xFF\\xFF", "\\xFF\\xFF\\x01", "\\xFF\\xFF\\xFF\\xFF");
        assertThat(scanKeys(bytes(0xFF, 0xFF))).containsExactly("\\xFF\\xFF", "\\xFF\\xFF\\x01", "\\xFF\\xFF\\xFF\\xFF");
        assertThat(scanKeys(bytes(0xFF, 0xFF, 0xFF))).containsExactly("\\xFF\\xFF\\xFF\\xFF");
        assertThat(scanKeys(bytes(0xFE))).containsExactly("\\xFE", "\\xFE\\xFF");
        assertThat(scanKeys(bytes(0xFE, 0xFF))).containsExactly("\\xFE\\xFF");
    }

    @Test
    void scanDoesNotReturnDeletedKeys() {
        for (int i = 1; i <= 6; i++) {
            store.put(utf8("k" + i), utf8("v" + i));
        }
        store.delete(utf8("k2"));
        store.putAll(List.of(KvEntry.deletion(utf8("k4")), KvEntry.deletion(utf8("k6"))));
        store.put(utf8("k6"), utf8("back"));

        List<KvEntry> entries = scan(utf8("k"));
        assertThat(Keys.show(entries.stream().map(KvEntry::key).toList())).containsExactly("k1", "k3", "k5", "k6");
        assertThat(entries.get(3).value()).isEqualTo(utf8("back"));
    }

    @Test
    void aNarrowScanAmongManyOtherKeysFindsExactlyItsKeys() {
        List<KvEntry> load = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            load.add(new KvEntry(utf8(String.format("x/%05d", i)), utf8("x" + i)));
        }
        for (int i = 0; i < 25; i++) {
            load.add(new KvEntry(utf8(String.format("m/%03d", i)), utf8("m" + i)));
        }
        // The neighbours of "m/" on both sides: '.' < '/' < '0'.
        load.add(new KvEntry(utf8("m"), utf8("n")));
        load.add(new KvEntry(utf8("m."), utf8("n")));
        load.add(new KvEntry(utf8("m0"), utf8("n")));
        for (int from = 0; from < load.size(); from += 500) {
            store.putAll(load.subList(from, Math.min(load.size(), from + 500)));
        }

        List<KvEntry> entries = scan(utf8("m/"));
        assertThat(entries).hasSize(25);
        for (int i = 0; i < 25; i++) {
            assertThat(entries.get(i).key()).isEqualTo(utf8(String.format("m/%03d", i)));
            assertThat(entries.get(i).value()).isEqualTo(utf8("m" + i));
        }
        assertThat(scanKeys(utf8("x/0123"))).hasSize(10).first().isEqualTo("x/01230");
        assertThat(scan(new byte[0])).hasSize(1528);
    }

    @Test
    void aCursorClosedEarlyReleasesAndTheStoreCarriesOn() {
        for (int i = 0; i < 10; i++) {
            store.put(utf8("k" + i), utf8("v" + i));
        }
        KvCursor cursor = store.scan(utf8("k"));
        assertThat(cursor.hasNext()).isTrue();
        assertThat(cursor.next().key()).isEqualTo(utf8("k0"));
        cursor.close();
        cursor.close();

        store.put(utf8("k10"), utf8("v10"));
        assertThat(scan(utf8("k"))).hasSize(11);
    }

    // ---------------------------------------------------------------- copies

    @Test
    void theStoreKeepsItsOwnCopiesOfKeysAndValues() {
        byte[] key = utf8("key");
        byte[] value = utf8("value");
        store.put(key, value);
        key[0] = 'X';
        value[0] = 'X';
        assertThat(store.get(utf8("key"))).isEqualTo(utf8("value"));
        assertThat(store.get(key)).isNull();

        store.get(utf8("key"))[0] = 'Y';
        store.getAll(List.of(utf8("key"))).get(0)[1] = 'Y';
        KvEntry scanned = scan(utf8("key")).get(0);
        scanned.key()[0] = 'Y';
        scanned.value()[2] = 'Y';
        assertThat(store.get(utf8("key"))).isEqualTo(utf8("value"));
        assertThat(scanKeys(new byte[0])).containsExactly("key");

        byte[] batchValue = utf8("batch");
        store.putAll(List.of(new KvEntry(utf8("b"), batchValue)));
        batchValue[0] = 'X';
        assertThat(store.get(utf8("b"))).isEqualTo(utf8("batch"));
    }

    // ---------------------------------------------------------------- concurrency

    /**
     * Eight threads write their own keys (each then reads its last write back) and a few keys they
     * all share. Every value names its key, so a read that returns another key's value or a torn one
     * fails; at the end each own key holds its last write and each shared key one of its writes.
     */
    @Test
    void concurrentClientsLeaveEveryKeyWithOneOfItsWrites() throws Exception {
        int threads = 8;
        int ownKeys = 8;
        int rounds = 6;
        int sharedKeys = 5;
        Map<String, Set<String>> writtenToShared = new ConcurrentHashMap<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    Random random = new Random(thread);
                    start.await();
                    for (int round = 0; round < rounds; round++) {
                        for (int i = 0; i < ownKeys; i++) {
                            String own = "own/" + thread + "/" + i;
                            String ownValue = own + "=" + round;
                            store.put(utf8(own), utf8(ownValue));
                            assertThat(store.get(utf8(own))).as("read of own write %s", own).isEqualTo(utf8(ownValue));

                            String shared = "shared/" + random.nextInt(sharedKeys);
                            String sharedValue = shared + "=" + thread + "." + round + "." + i;
                            writtenToShared.computeIfAbsent(shared, k -> ConcurrentHashMap.newKeySet()).add(sharedValue);
                            store.put(utf8(shared), utf8(sharedValue + "|" + "p".repeat(random.nextInt(64))));

                            String probe = "shared/" + random.nextInt(sharedKeys);
                            byte[] seen = store.get(utf8(probe));
                            if (seen != null) {
                                assertThat(new String(seen, UTF_8))
                                        .as("value read from %s", probe).matches(Pattern.quote(probe) + "=\\d+\\.\\d+\\.\\d+\\|p*");
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < ownKeys; i++) {
                String own = "own/" + t + "/" + i;
                assertThat(store.get(utf8(own))).as(own).isEqualTo(utf8(own + "=" + (rounds - 1)));
            }
        }
        for (int s = 0; s < sharedKeys; s++) {
            String shared = "shared/" + s;
            byte[] value = store.get(utf8(shared));
            Set<String> written = writtenToShared.getOrDefault(shared, Set.of());
            if (written.isEmpty()) {
                assertThat(value).as(shared).isNull();
            } else {
                String v = new String(value, UTF_8);
                assertThat(written).as(shared).contains(v.substring(0, v.indexOf('|')));
            }
        }
        assertThat(scan(utf8("own/"))).hasSize(threads * ownKeys);
    }

    // ---------------------------------------------------------------- stats

    @Test
    void statsCountOperations() {
        KvStats before = store.stats();
        store.put(utf8("a"), utf8("1"));
        store.put(utf8("a"), utf8("2"));
        store.get(utf8("a"));
        store.get(utf8("absent"));
        store.get(utf8("a"));
        store.delete(utf8("a"));
        store.delete(utf8("absent"));
        KvStats delta = store.stats().minus(before);
        assertThat(delta.gets()).isEqualTo(3);
        assertThat(delta.puts()).isEqualTo(2);
        assertThat(delta.deletes()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- durability

    @Test
    void acknowledgedWritesSurviveCloseAndReopen() throws Exception {
        store.put(utf8("kept"), utf8("v1"));
        store.put(utf8("overwritten"), utf8("old"));
        store.put(utf8("overwritten"), utf8("new"));
        store.put(utf8("deleted"), utf8("gone"));
        store.delete(utf8("deleted"));
        store.putAll(List.of(new KvEntry(utf8("batched"), utf8("b")), KvEntry.deletion(utf8("kept2"))));
        store.put(utf8("empty"), new byte[0]);

        store = closeAndReopen(store);

        assertThat(store.get(utf8("kept"))).isEqualTo(utf8("v1"));
        assertThat(store.get(utf8("overwritten"))).isEqualTo(utf8("new"));
        assertThat(store.get(utf8("deleted"))).isNull();
        assertThat(store.get(utf8("batched"))).isEqualTo(utf8("b"));
        assertThat(store.get(utf8("empty"))).isEmpty();
        assertThat(scanKeys(new byte[0])).containsExactly("batched", "empty", "kept", "overwritten");

        store.put(utf8("after"), utf8("reopen"));
        assertThat(store.get(utf8("after"))).isEqualTo(utf8("reopen"));
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Reads a whole scan, then checks the cursor behaves as an exhausted iterator should and that
     * closing it twice is harmless.
     */
    protected List<KvEntry> scan(byte[] prefix) {
        List<KvEntry> entries = new ArrayList<>();
        KvCursor cursor = store.scan(prefix);
        try (cursor) {
            while (cursor.hasNext()) {
                KvEntry e = cursor.next();
                assertThat(KeyOrder.hasPrefix(e.key(), prefix)).as("key %s has prefix %s", Keys.show(e.key()), Keys.show(prefix)).isTrue();
                entries.add(e);
            }
            assertThat(cursor.hasNext()).isFalse();
            assertThatThrownBy(cursor::next).isInstanceOf(NoSuchElementException.class);
        }
        cursor.close();
        return entries;
    }

    protected List<String> scanKeys(byte[] prefix) {
        return Keys.show(scan(prefix).stream().map(KvEntry::key).toList());
    }

    private static byte[] filled(int length, char c) {
        byte[] out = new byte[length];
        Arrays.fill(out, (byte) c);
        return out;
    }
}
