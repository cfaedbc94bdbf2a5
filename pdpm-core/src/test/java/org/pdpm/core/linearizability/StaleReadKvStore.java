package org.pdpm.core.linearizability;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.pdpm.core.api.KvStore;

/**
 * A client handle with a read cache that is never invalidated: once it has seen a key it keeps
 * answering with what it saw or wrote, missing other clients' later writes — the bug of a client that
 * trusts a cached pointer without checking the version behind it.
 */
final class StaleReadKvStore extends ForwardingKvStore {

    private final Map<String, byte[]> remembered = new HashMap<>();

    StaleReadKvStore(KvStore shared) {
        super(shared);
    }

    @Override
    public synchronized byte[] get(byte[] key) {
        String name = new String(key, StandardCharsets.ISO_8859_1);
        if (remembered.containsKey(name)) {
            return remembered.get(name);
        }
        byte[] value = delegate.get(key);
        remembered.put(name, value);
        return value;
    }

    @Override
    public synchronized void put(byte[] key, byte[] value) {
        delegate.put(key, value);
        remembered.put(new String(key, StandardCharsets.ISO_8859_1), value);
    }

    @Override
    public synchronized void delete(byte[] key) {
        delegate.delete(key);
        remembered.put(new String(key, StandardCharsets.ISO_8859_1), null);
    }

    @Override
    public void close() {
        // A handle owns nothing: the shared store is closed by whoever opened it.
    }
}
