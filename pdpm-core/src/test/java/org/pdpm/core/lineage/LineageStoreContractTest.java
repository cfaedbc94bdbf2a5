package org.pdpm.core.lineage;

import org.junit.jupiter.api.AfterEach;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.KvStoreContractTest;
import org.pdpm.core.api.LineageStore;

/**
 * The KvStore contract on a lineage's writer over pDPM-Direct, in a fork (so that every read and
 * scan merges two levels) with a checkpoint taken first, so that overwrites preserve.
 */
class LineageStoreContractTest extends KvStoreContractTest {

    private LineagePool pool;
    private int lineage;

    @Override
    protected KvStore openStore() {
        pool = LineagePool.direct();
        StoreLineages lineages = StoreLineages.over(pool.client());
        int base = lineages.createLineage();
        lineages.open(base, 1).close();
        lineages.pin(base, 1, "base");
        lineage = lineages.fork(base, 1);
        LineageStore s = lineages.open(lineage, 1);
        lineages.pin(lineage, 1, "cp");
        s.advanceEpoch(2);
        return s;
    }

    /** A new writer of the same lineage, in a later epoch, as after a restart of its process. */
    @Override
    protected KvStore closeAndReopen(KvStore current) {
        long epoch = ((LineageStore) current).epoch();
        current.close();
        return StoreLineages.over(pool.client()).open(lineage, epoch + 1);
    }

    @AfterEach
    void closePool() {
        if (pool != null) {
            pool.close();
        }
    }
}
