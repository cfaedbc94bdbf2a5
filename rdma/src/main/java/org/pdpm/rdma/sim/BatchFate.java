package org.pdpm.rdma.sim;

import org.pdpm.rdma.api.FabricException;

/**
 * What the simulation decided, when a batch was posted, will happen to it. Deciding at posting time
 * and under the client's lock keeps every random draw in posting order, so a seed replays exactly.
 *
 * @param stopsClient     the client's verb limit falls inside this batch
 * @param verbsToExecute  how many leading verbs execute when the client stops in this batch
 * @param injectedFailure the failure drawn for this batch, or null when it succeeds
 * @param failureStatus   the status of that failure
 * @param delayNanos      how long the batch is held back before it executes and completes
 */
record BatchFate(boolean stopsClient, int verbsToExecute, FailureMode injectedFailure,
                 FabricException.Status failureStatus, long delayNanos) {

    static BatchFate stopsClientAfter(int verbsToExecute) {
        return new BatchFate(true, verbsToExecute, null, null, 0);
    }

    static BatchFate normal(FailureMode injectedFailure, FabricException.Status failureStatus, long delayNanos) {
        return new BatchFate(false, -1, injectedFailure, failureStatus, delayNanos);
    }
}
