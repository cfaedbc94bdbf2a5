package org.pdpm.core.central;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;

/** The KvStore contract on pDPM-Central: an embedded coordinator over two in-JVM memory nodes, R = 2. */
class CentralLocalContractTest extends KvStoreContractTest {

    private CentralPool pool;

    @Override
    protected KvStore openStore() {
        pool = new CentralPool(2, 2, 16 << 20);
        return pool.client();
    }

    /** A new client after the coordinator restarted: its index is rebuilt from the memory nodes. */
    @Override
    protected KvStore closeAndReopen(KvStore current) {
        current.close();
        pool.restartCoordinator();
        return pool.client();
    }

    @AfterEach
    void closePool() {
        if (pool != null) {
            pool.close();
        }
    }
}
