package org.pdpm.jobs.bench;

/**
 * The benchmark's keys: {@code user} and the key index in ten decimal digits, as YCSB names its
 * records, all of one length so that every store sees the same key size whatever the index.
 */
public final class KeySpace {

    private static final byte[] PREFIX = {'u', 's', 'e', 'r'};
    private static final int DIGITS = 10;

    /** The length of every key. */
    public static final int KEY_BYTES = PREFIX.length + DIGITS;

    /** The largest key space the ten digits can name. */
    public static final long MAX_KEYS = 10_000_000_000L;

    private KeySpace() {}

    /** A buffer for {@link #write}. */
    public static byte[] newKey() {
        byte[] key = new byte[KEY_BYTES];
        System.arraycopy(PREFIX, 0, key, 0, PREFIX.length);
        return key;
    }

    /** Writes key {@code index} into {@code key} (from {@link #newKey}) and returns it; the stores copy what they keep. */
    public static byte[] write(long index, byte[] key) {
        if (index < 0 || index >= MAX_KEYS) {
            throw new IllegalArgumentException("index=" + index + " is outside 0.." + (MAX_KEYS - 1));
        }
        long rest = index;
        for (int i = KEY_BYTES - 1; i >= PREFIX.length; i--) {
            key[i] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        return key;
    }
}
