package org.pdpm.core.clover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.pdpm.core.api.KeyBytes;

/**
 * The metadata server's keys: found by hash, listed in key order for scans. A sorted map costs
 * several microseconds per insert or lookup at a million keys (a pointer chase per level, each a
 * cache miss), and every create, lookup and collection looks a key up; so lookups go to a hash map,
 * and the order is kept beside it as sorted runs, merged like a binary counter (at most about
 * log2 of the key count runs; each key is copied that many times, sequentially). New keys wait in
 * a queue until a scan, or enough of them, sorts them into a run. A scan skips removed keys; they
 * leave the runs when they make up a quarter of them, in one merge of all runs.
 */
final class KeyIndex<V> {

    /** New keys waiting to be ordered; beyond this, the thread that adds one sorts them into a run. */
    private static final int MAX_UNORDERED = 1 << 16;

    private final ConcurrentHashMap<KeyBytes, V> byKey = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<KeyBytes> unordered = new ConcurrentLinkedQueue<>();
    private final AtomicInteger unorderedCount = new AtomicInteger();
    /** Keys removed since the runs were last cleared of removed keys. */
    private final AtomicLong removals = new AtomicLong();
    /** Keys in the runs (each run's length, summed). */
    private long ordered;
    /**
     * Sorted runs, largest first, each less than half its predecessor's size once merged; replaced
     * as a whole, so a scan iterates the list it read. Together with {@code unordered} they hold
     * every mapped key (and perhaps some removed ones, and a key twice).
     */
    private volatile List<KeyBytes[]> runs = List.of();

    V get(KeyBytes key) {
        return byKey.get(key);
    }

    boolean containsKey(KeyBytes key) {
        return byKey.containsKey(key);
    }

    int size() {
        return byKey.size();
    }

    Collection<V> values() {
        return byKey.values();
    }

    /** The entries in no particular order. */
    Set<Map.Entry<KeyBytes, V>> entrySet() {
        return byKey.entrySet();
    }

    void put(KeyBytes key, V value) {
        // In the map before the queue: a merge that finds the key unmapped and drops it (under the
        // lock) ran before this put, so the queue brings the key back.
        if (byKey.put(key, value) == null) {
            unordered.add(key);
            if (unorderedCount.incrementAndGet() > MAX_UNORDERED) {
                catchUp();
            }
        }
    }

    void remove(KeyBytes key) {
        if (byKey.remove(key) != null) {
            removals.incrementAndGet();
        }
    }

    boolean remove(KeyBytes key, V value) {
        boolean removed = byKey.remove(key, value);
        if (removed) {
            removals.incrementAndGet();
        }
        return removed;
    }

    /**
     * The entries from {@code from} on ({@code inclusive}) or after it, in key order. Every key
     * added before the call and not removed is among them; one added or removed meanwhile may be or not.
     */
    Iterator<Map.Entry<KeyBytes, V>> from(KeyBytes from, boolean inclusive) {
        catchUp();
        List<KeyBytes[]> snapshot = runs;
        int[] at = new int[snapshot.size()];
        for (int r = 0; r < at.length; r++) {
            KeyBytes[] run = snapshot.get(r);
            int i = Arrays.binarySearch(run, from);
            at[r] = i < 0 ? -i - 1 : inclusive ? i : i + 1;
        }
        return new Iterator<>() {
            private Map.Entry<KeyBytes, V> next;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    KeyBytes least = null;
                    for (int r = 0; r < at.length; r++) {
                        KeyBytes[] run = snapshot.get(r);
                        if (at[r] < run.length && (least == null || run[at[r]].compareTo(least) < 0)) {
                            least = run[at[r]];
                        }
                    }
                    if (least == null) {
                        return false;
                    }
                    for (int r = 0; r < at.length; r++) {
                        KeyBytes[] run = snapshot.get(r);
                        while (at[r] < run.length && run[at[r]].equals(least)) {
                            at[r]++;                            // a key in two runs is listed once
                        }
                    }
                    V v = byKey.get(least);
                    if (v != null) {
                        next = Map.entry(least, v);
                    }
                }
                return true;
            }

            @Override
            public Map.Entry<KeyBytes, V> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Map.Entry<KeyBytes, V> e = next;
                next = null;
                return e;
            }
        };
    }

    /** Sorts the waiting keys into a run and merges runs until each is under half its predecessor's size. */
    private synchronized void catchUp() {
        List<KeyBytes> waiting = new ArrayList<>();
        for (KeyBytes k; (k = unordered.poll()) != null; ) {
            unorderedCount.decrementAndGet();
            waiting.add(k);
        }
        if (waiting.isEmpty()) {
            return;
        }
        // Read before the merges: a key removed during them is counted for the next clearing.
        boolean clear = removals.get() * 4 > ordered;
        long removed = clear ? removals.getAndSet(0) : 0;
        KeyBytes[] run = merge(new KeyBytes[0], sorted(waiting), false);
        List<KeyBytes[]> next = new ArrayList<>(runs);
        while (!next.isEmpty() && (clear || next.get(next.size() - 1).length <= 2 * run.length)) {
            run = merge(next.remove(next.size() - 1), run, clear);
        }
        next.add(run);
        runs = List.copyOf(next);
        ordered = 0;
        for (KeyBytes[] r : next) {
            ordered += r.length;
        }
    }

    private static KeyBytes[] sorted(List<KeyBytes> keys) {
        KeyBytes[] run = keys.toArray(new KeyBytes[0]);
        Arrays.sort(run);
        return run;
    }

    /** The keys of two sorted runs (either may hold a key twice), sorted, each once; only mapped ones if {@code mappedOnly}. */
    private KeyBytes[] merge(KeyBytes[] a, KeyBytes[] b, boolean mappedOnly) {
        KeyBytes[] out = new KeyBytes[a.length + b.length];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < a.length || j < b.length) {
            KeyBytes k;
            if (j == b.length || (i < a.length && a[i].compareTo(b[j]) < 0)) {
                k = a[i++];
            } else if (i == a.length || b[j].compareTo(a[i]) < 0) {
                k = b[j++];
            } else {
                k = a[i++];
                j++;
            }
            if ((n == 0 || !out[n - 1].equals(k)) && (!mappedOnly || byKey.containsKey(k))) {
                out[n++] = k;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
