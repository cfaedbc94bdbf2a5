package org.pdpm.core.lineage;

/** Crash points of lineage writers on pDPM-Central. */
class CentralLineageCrashPointTest extends LineageCrashPointTest {

    @Override
    LineagePool newPool() {
        return LineagePool.central();
    }
}
