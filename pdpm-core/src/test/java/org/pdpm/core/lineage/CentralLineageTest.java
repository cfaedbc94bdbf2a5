package org.pdpm.core.lineage;

/** Lineages on pDPM-Central (an embedded coordinator, two in-JVM memory nodes). */
class CentralLineageTest extends LineageContractTest {

    @Override
    LineagePool newPool() {
        return LineagePool.central();
    }
}
