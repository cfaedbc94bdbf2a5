package org.pdpm.core.lineage;

/** Lineages on pDPM-Direct (two in-JVM memory nodes, R = 1). */
class DirectLineageTest extends LineageContractTest {

    @Override
    LineagePool newPool() {
        return LineagePool.direct();
    }
}
