package org.pdpm.core.api;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The order of keys in {@link KvStore#scan}: unsigned lexicographic, so byte 0x80 sorts after 0x7F
 * (as in RocksDB's bytewise comparator and memcmp), and a key sorts right after its own prefixes.
 */
public final class KeyOrder {

    /** Compares keys byte by byte as unsigned values; a proper prefix sorts first. */
    public static final Comparator<byte[]> UNSIGNED = Arrays::compareUnsigned;

    private KeyOrder() {
    }

    public static boolean hasPrefix(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * The smallest key greater than every key that starts with {@code prefix}, i.e. the exclusive
     * upper bound of the prefix's range: the prefix with trailing 0xFF bytes dropped and its last
     * byte incremented. Null when no such bound exists (the prefix is empty or all 0xFF), in which
     * case the range runs to the end of the key space.
     */
    public static byte[] prefixEnd(byte[] prefix) {
        int last = prefix.length - 1;
        while (last >= 0 && prefix[last] == (byte) 0xFF) {
            last--;
        }
        if (last < 0) {
            return null;
        }
        byte[] end = Arrays.copyOf(prefix, last + 1);
        end[last]++;
        return end;
    }
}
