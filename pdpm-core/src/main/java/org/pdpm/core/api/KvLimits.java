package org.pdpm.core.api;

/**
 * A store's bounds. Every operation checks them before touching anything and fails with an
 * {@link IllegalArgumentException} naming the bound and the offending size.
 */
public record KvLimits(int maxKeyBytes, int maxValueBytes) {

    public KvLimits {
        if (maxKeyBytes < 1) {
            throw new IllegalArgumentException("maxKeyBytes=" + maxKeyBytes + " must be positive");
        }
        if (maxValueBytes < 0) {
            throw new IllegalArgumentException("maxValueBytes=" + maxValueBytes + " must not be negative");
        }
    }

    public void checkKey(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        if (key.length == 0 || key.length > maxKeyBytes) {
            throw new IllegalArgumentException("key length=" + key.length + " is outside 1..maxKeyBytes=" + maxKeyBytes);
        }
    }

    public void checkValue(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("value must not be null");
        }
        if (value.length > maxValueBytes) {
            throw new IllegalArgumentException("value length=" + value.length + " exceeds maxValueBytes=" + maxValueBytes);
        }
    }

    /** A prefix may be empty (scan everything) but not longer than a key. */
    public void checkPrefix(byte[] prefix) {
        if (prefix == null) {
            throw new IllegalArgumentException("prefix must not be null");
        }
        if (prefix.length > maxKeyBytes) {
            throw new IllegalArgumentException("prefix length=" + prefix.length + " exceeds maxKeyBytes=" + maxKeyBytes);
        }
    }
}
