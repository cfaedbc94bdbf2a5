package org.pdpm.rdma.sim;

import org.pdpm.rdma.api.FabricException;

/**
 * Raised to a simulated client once it has been stopped after its k-th verb: by the batch in which
 * it stopped, by its batches still in flight, and by everything it posts afterwards. Its status is
 * {@link FabricException.Status#FLUSHED}, what a real client would see for requests its dead queue
 * pair never carried, so store code handles it like any transport fault.
 *
 * <p>Blocking calls ({@code Connection.execute}, {@code RoundTrip.await}) rethrow a fresh
 * {@code FabricException} with this one as its cause, and layers above may wrap it again; a test
 * stopping its writer thread therefore asks {@link #isCrash(Throwable)} rather than the type.
 */
public final class SimulatedCrashException extends FabricException {

    SimulatedCrashException(String message) {
        super(Status.FLUSHED, message);
    }

    /** Whether {@code failure} is, or was caused by, a simulated client crash. */
    public static boolean isCrash(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SimulatedCrashException) {
                return true;
            }
        }
        return false;
    }
}
