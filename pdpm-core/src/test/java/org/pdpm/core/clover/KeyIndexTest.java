package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KeyBytes;

/** {@link KeyIndex}: hash lookups, and scans in key order that see every key added before them. */
class KeyIndexTest {

    private static KeyBytes k(String s) {
        return new KeyBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> keysFrom(KeyIndex<Integer> index, String from, boolean inclusive) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<KeyBytes, Integer>> it = index.from(k(from), inclusive); it.hasNext(); ) {
            out.add(it.next().getKey().toString());
        }
        return out;
    }

    @Test
    void scansAreOrderedSkipRemovedKeysAndSeeKeysAddedAgain() {
        KeyIndex<Integer> index = new KeyIndex<>();
        for (String s : List.of("d", "b", "a", "c")) {
            index.put(k(s), 1);
        }
        assertThat(keysFrom(index, "", true)).containsExactly("a", "b", "c", "d");
        assertThat(keysFrom(index, "b", false)).containsExactly("c", "d");
        index.put(k("bb"), 2);                                  // after the order was caught up
        index.remove(k("c"));
        assertThat(keysFrom(index, "b", true)).containsExactly("b", "bb", "d");
        index.put(k("c"), 3);
        assertThat(keysFrom(index, "", true)).containsExactly("a", "b", "bb", "c", "d");
        assertThat(index.get(k("c"))).isEqualTo(3);
        assertThat(index.remove(k("c"), 1)).isFalse();
        assertThat(index.size()).isEqualTo(5);
    }

    /** Keys churn (removed and added again) while scans run: a scan sees every key that was never removed. */
    @Test
    void concurrentChurnNeverHidesAStableKey() throws Exception {
        KeyIndex<Integer> index = new KeyIndex<>();
        for (int i = 0; i < 2_000; i++) {
            index.put(k(String.format("stable-%05d", i)), i);
        }
        ExecutorService threads = Executors.newFixedThreadPool(3);
        AtomicInteger scans = new AtomicInteger();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                done.add(threads.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        for (int i = 0; i < 50; i++) {
                            KeyBytes churn = k(String.format("stable-%05d-churn-%d", (round * 37 + i * 11 + seed) % 2_000, i));
                            index.put(churn, round);
                            index.remove(churn);
                            index.put(churn, round);
                        }
                    }
                    return null;
                }));
            }
            done.add(threads.submit(() -> {
                for (int round = 0; round < 50; round++) {
                    long stable = keysFrom(index, "stable-", true).stream().filter(s -> !s.contains("churn")).count();
                    assertThat(stable).isEqualTo(2_000);
                    scans.incrementAndGet();
                }
                return null;
            }));
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(scans.get()).isEqualTo(50);
        // churned keys were added last: every one of them is listed once
        List<String> all = keysFrom(index, "", true);
        assertThat(all).doesNotHaveDuplicates().hasSize(index.size());
    }
}
