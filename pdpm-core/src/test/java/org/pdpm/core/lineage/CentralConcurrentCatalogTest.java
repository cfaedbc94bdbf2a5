package org.pdpm.core.lineage;

/** Racing putIfAbsent and lineage creation on pDPM-Central. */
class CentralConcurrentCatalogTest extends ConcurrentCatalogTest {

    @Override
    LineagePool newPool() {
        return LineagePool.central();
    }
}
