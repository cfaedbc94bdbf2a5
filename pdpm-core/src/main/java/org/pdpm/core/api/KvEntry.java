package org.pdpm.core.api;

import java.util.Objects;

/** A key and its value; a null value stands for a deletion in {@link KvStore#putAll}. */
public record KvEntry(byte[] key, byte[] value) {

    public KvEntry {
        Objects.requireNonNull(key, "key");
    }

    public static KvEntry deletion(byte[] key) {
        return new KvEntry(key, null);
    }
}
