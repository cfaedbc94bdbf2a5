package org.pdpm.core.lineage;

import java.util.LinkedHashMap;
import java.util.Map;
import org.pdpm.core.api.KeyBytes;

/**
 * The epoch a writer last wrote each of its most recent keys in, at most {@code capacity} of them:
 * a key already written in the current epoch needs no re-read before its next overwrite. Forgetting
 * a key only costs that read. Not thread-safe; its writer holds its own lock.
 */
final class WrittenKeys {

    private final int capacity;
    private final LinkedHashMap<KeyBytes, Long> epochs;

    WrittenKeys(int capacity) {
        this.capacity = capacity;
        this.epochs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<KeyBytes, Long> eldest) {
                return size() > WrittenKeys.this.capacity;
            }
        };
    }

    boolean writtenIn(KeyBytes key, long epoch) {
        Long e = epochs.get(key);
        return e != null && e == epoch;
    }

    void written(KeyBytes key, long epoch) {
        if (capacity > 0) {
            epochs.put(key, epoch);
        }
    }
}
