package org.pdpm.core.lineage;

/** Crash points of lineage writers on pDPM-Direct. */
class DirectLineageCrashPointTest extends LineageCrashPointTest {

    @Override
    LineagePool newPool() {
        return LineagePool.direct();
    }
}
