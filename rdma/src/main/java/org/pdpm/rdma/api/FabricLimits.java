package org.pdpm.rdma.api;

/** The hard bounds every fabric enforces; each has a test at its edge. */
public final class FabricLimits {

    /** Most work requests in one batch (a send queue's depth on a real NIC is of this order). */
    public static final int MAX_BATCH_VERBS = 4096;

    /** Largest single READ or WRITE. */
    public static final int MAX_TRANSFER_BYTES = 4 << 20;

    /** Largest total of READ and WRITE bytes in one batch, so a batch always fits one wire frame. */
    public static final int MAX_BATCH_BYTES = 8 << 20;

    /** Atomics work on aligned 8-byte words, as on RDMA NICs. */
    public static final int ATOMIC_BYTES = 8;

    private FabricLimits() {}
}
