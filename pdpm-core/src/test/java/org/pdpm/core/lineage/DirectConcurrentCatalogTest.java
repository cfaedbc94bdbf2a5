package org.pdpm.core.lineage;

/** Racing putIfAbsent and lineage creation on pDPM-Direct. */
class DirectConcurrentCatalogTest extends ConcurrentCatalogTest {

    @Override
    LineagePool newPool() {
        return LineagePool.direct();
    }
}
