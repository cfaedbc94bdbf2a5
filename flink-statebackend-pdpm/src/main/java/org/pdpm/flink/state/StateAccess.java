package org.pdpm.flink.state;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.pdpm.core.api.KvStore;

/** What a state object needs from its backend: the current key's store and key builder. */
public interface StateAccess<K> {

    TypeSerializer<K> keySerializer();

    /** Builds keys for the current key. */
    StateKeys.Builder<K> keys();

    /** The store holding the current key's key group. */
    KvStore currentStore();

    /** The store holding {@code keyGroup}, and the root its keys start with. */
    KvStore store(int keyGroup);

    int root(int keyGroup);

    int numberOfKeyGroups();

    /** The key groups this backend owns. */
    KeyGroupRange getKeyGroupRange();
}
