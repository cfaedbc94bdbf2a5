package org.pdpm.core.central;

import java.util.Arrays;

/** A key as a map key: equality by content, order unsigned lexicographic (KeyOrder's). */
record CentralKey(byte[] bytes) implements Comparable<CentralKey> {

    @Override
    public boolean equals(Object o) {
        return o instanceof CentralKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(CentralKey o) {
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
