package org.pdpm.rdma.sim;

/** What a simulated power loss does to the writes a memory node has not yet made durable. */
public enum PowerLoss {
    /** Every un-flushed write is lost: the region reverts to its durable image. */
    DROP,
    /**
     * Each un-flushed 8-byte word is independently kept or lost, chosen by the fabric's seed: PM
     * persists aligned 8-byte stores atomically but in no promised order, so a multi-word write
     * that was never flushed may survive in any mix of its words.
     */
    TEAR
}
