package org.pdpm.rdma.sim;

import java.time.Duration;
import java.util.Objects;
import org.pdpm.rdma.api.FabricException;

/**
 * The faults a simulated client suffers on every batch it posts, each drawn from the fabric's seed
 * in posting order. {@link #none()} is a perfect network; {@code with…} return modified copies:
 *
 * <pre>{@code
 * Faults lossy = Faults.none()
 *         .withDelays(0.3, Duration.ZERO, Duration.ofMillis(2))
 *         .withFailures(0.05, FabricException.Status.RETRY_EXCEEDED, FailureMode.COMPLETION_LOST);
 * }</pre>
 *
 * @param delayProbability   chance that a batch is held back
 * @param minDelayNanos      shortest hold-back of a delayed batch
 * @param maxDelayNanos      longest hold-back of a delayed batch (uniform in between)
 * @param failureProbability chance that a batch fails
 * @param failureStatus      the status a failed batch completes with
 * @param failureMode        whether a failed batch executed before failing
 */
public record Faults(double delayProbability, long minDelayNanos, long maxDelayNanos,
                     double failureProbability, FabricException.Status failureStatus, FailureMode failureMode) {

    public Faults {
        checkProbability("delayProbability", delayProbability);
        checkProbability("failureProbability", failureProbability);
        if (minDelayNanos < 0 || maxDelayNanos < minDelayNanos) {
            throw new IllegalArgumentException("delays minDelayNanos=" + minDelayNanos + " maxDelayNanos="
                    + maxDelayNanos + " must satisfy 0 <= min <= max");
        }
        Objects.requireNonNull(failureStatus, "failureStatus");
        Objects.requireNonNull(failureMode, "failureMode");
    }

    /** No delays, no failures. */
    public static Faults none() {
        return new Faults(0, 0, 0, 0, FabricException.Status.RETRY_EXCEEDED, FailureMode.REQUEST_LOST);
    }

    /**
     * Holds back each batch with {@code probability} for a time drawn uniformly from
     * {@code [minDelay, maxDelay]}. A held-back batch executes and completes only then, and later
     * batches on its connection wait behind it, so per-connection order is kept.
     */
    public Faults withDelays(double probability, Duration minDelay, Duration maxDelay) {
        return new Faults(probability, minDelay.toNanos(), maxDelay.toNanos(),
                failureProbability, failureStatus, failureMode);
    }

    /** Fails each batch with {@code probability}, completing it with {@code status}. */
    public Faults withFailures(double probability, FabricException.Status status, FailureMode mode) {
        return new Faults(delayProbability, minDelayNanos, maxDelayNanos, probability, status, mode);
    }

    private static void checkProbability(String name, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(name + "=" + p + " must be in 0..1");
        }
    }
}
