package org.pdpm.core.linearizability;

/**
 * What a {@link LinearizabilityRunner} run checked, for tests to assert on and to report.
 *
 * @param unknownOutcomes operations that threw a tolerated exception and were checked as pending
 */
public record RunSummary(int histories, long operations, long unknownOutcomes, long elapsedNanos) {

    public double historiesPerSecond() {
        return elapsedNanos == 0 ? Double.NaN : histories * 1e9 / elapsedNanos;
    }

    @Override
    public String toString() {
        return String.format("%d histories, %d operations (%d of unknown outcome) in %.2f s: %.0f histories/s",
                histories, operations, unknownOutcomes, elapsedNanos / 1e9, historiesPerSecond());
    }
}
