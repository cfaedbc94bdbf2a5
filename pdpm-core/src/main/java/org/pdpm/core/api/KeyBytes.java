package org.pdpm.core.api;

import java.util.Arrays;

/** A key as a map key: equality by content, order unsigned lexicographic (as {@link KeyOrder}). */
public record KeyBytes(byte[] bytes) implements Comparable<KeyBytes> {

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyBytes k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(KeyBytes o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    public boolean startsWith(byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public String toString() {
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }
}
