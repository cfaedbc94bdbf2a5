package org.pdpm.core.api;

import java.util.List;

/**
 * The lineages of a pool (DESIGN §3): lines of history that {@link LineageStore}s write in, points
 * {@code (lineage, epoch)} pinned so that they stay readable, and forks that start a new lineage at
 * a pinned point. What no live lineage and no pin can see is garbage. Every call is durable when it
 * returns. Clover's metadata server keeps them; pDPM-Direct and pDPM-Central keep them in the store.
 */
public interface Lineages {

    /** Longest pin owner, in UTF-8 bytes. */
    int MAX_PIN_OWNER_BYTES = 255;

    /** A new root lineage: it sees nothing but what is written in it. */
    int createLineage();

    /**
     * A new lineage that sees what {@code (lineage, epoch)} sees, and then its own writes only.
     * The point must be pinned when forking (by any owner); the new lineage keeps what it sees
     * alive until it is dropped, whatever happens to that pin.
     */
    int fork(int lineage, long epoch);

    /**
     * Ends the lineage: nothing is written in it any more and what only its head could see becomes
     * garbage. Its pins, and lineages forked from it, keep what they see. Dropping twice is harmless.
     */
    void dropLineage(int lineage);

    /**
     * Keeps what {@code (lineage, epoch)} sees alive until {@code owner} unpins it. A writer must pin
     * an epoch before it writes any version of a later epoch in that lineage. Idempotent per owner.
     */
    void pin(int lineage, long epoch, String owner);

    /** Releases {@code owner}'s pin; releasing a pin that is not held is harmless. */
    void unpin(int lineage, long epoch, String owner);

    /** Every pin held, so that an operator can release those whose owner vanished. */
    List<Pin> pins();

    /** A pinned point and who holds it. */
    record Pin(int lineage, long epoch, String owner) {}
}
