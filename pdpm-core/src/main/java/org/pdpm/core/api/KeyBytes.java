package org.pdpm.core.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A key as a map key: equality by content, order unsigned lexicographic (as {@link KeyOrder}).
 * The hash is computed once: a GET looks its key up in a client's caches several times, and
 * hashing the bytes again each time showed up in profiles of the read path.
 */
public final class KeyBytes implements Comparable<KeyBytes> {

    private final byte[] bytes;
    private final int hash;

    /** Wraps {@code bytes} without copying: the caller must not change them afterwards. */
    public KeyBytes(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public byte[] bytes() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyBytes k && hash == k.hash && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
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
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
