package org.pdpm.jobs.sample;

import java.io.Serializable;

/**
 * The sample job's input as a pure function of (seed, index): the job and the expected result
 * compute the same events, so the result can be checked without storing the input. Event time
 * advances by {@link #SPACING_MILLIS} per event, so a single reader emits it in order.
 */
public final class PurchaseGenerator implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Event time between two consecutive events. */
    public static final long SPACING_MILLIS = 1;

    static final long MAX_AMOUNT = 1000;

    private final long seed;
    private final int users;
    private final int items;

    public PurchaseGenerator(long seed, int users, int items) {
        if (users < 1) {
            throw new IllegalArgumentException("users=" + users + " must be positive");
        }
        if (items < 1) {
            throw new IllegalArgumentException("items=" + items + " must be positive");
        }
        this.seed = seed;
        this.users = users;
        this.items = items;
    }

    public Purchase at(long index) {
        long h = mix(seed * 0x9E3779B97F4A7C15L + index);
        long user = Long.remainderUnsigned(h, users);
        int item = (int) Long.remainderUnsigned(mix(h ^ 0x5DEECE66DL), items);
        long amount = 1 + Long.remainderUnsigned(h >>> 17, MAX_AMOUNT);
        return new Purchase(index, user, item, amount, timestampOf(index));
    }

    public static long timestampOf(long index) {
        return index * SPACING_MILLIS;
    }

    /** A 64-bit finaliser (the SplitMix64 one): every input bit affects every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * A digest of a user's per-item counts: equal digests mean, with overwhelming probability,
     * equal maps (a lost, extra or double-counted item changes it).
     */
    public static long itemDigestTerm(int item, long count) {
        return mix(item + 0x632BE59BD9B4E019L) * count;
    }
}
