package org.pdpm.rdma.sim;

/** Where an injected verb failure strikes, which decides whether the failed batch changed memory. */
public enum FailureMode {
    /** The request is lost on its way to the node: nothing in the batch executes. */
    REQUEST_LOST,
    /**
     * The batch executes but its completion is lost (DESIGN §2's "dropped completion"): memory has
     * changed, yet the poster sees a failure and cannot tell the two cases apart.
     */
    COMPLETION_LOST
}
