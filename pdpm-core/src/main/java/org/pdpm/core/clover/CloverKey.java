package org.pdpm.core.clover;

import java.util.Arrays;

/** A key as a map key: equality by content, order unsigned lexicographic. */
record CloverKey(byte[] bytes) implements Comparable<CloverKey> {

    @Override
    public boolean equals(Object o) {
        return o instanceof CloverKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(CloverKey o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    boolean startsWith(byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public String toString() {
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }
}
