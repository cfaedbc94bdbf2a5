package org.pdpm.core.clover;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;

/** The KvStore contract on Clover over in-JVM memory nodes, replicated twice. */
class CloverLocalContractTest extends KvStoreContractTest {

    private LocalPool pool;

    @Override
    protected KvStore openStore() {
        pool = new LocalPool(2, 2, 64 << 20);
        return pool.client();
    }

    /** A new client after the metadata server restarted: what was acknowledged is in the memory nodes. */
    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        pool.restartMetadata();
        return pool.client();
    }

    @AfterEach
    void closePool() {
        if (pool != null) {
            pool.close();
        }
    }
}
