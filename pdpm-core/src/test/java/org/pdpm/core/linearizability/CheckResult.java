package org.pdpm.core.linearizability;

import java.util.Objects;

/**
 * What {@link LinearizabilityChecker} found. An inconclusive check (the search hit its bound) proves
 * nothing either way; tests must treat it as a failure.
 *
 * @param explanation empty when linearizable; otherwise the key and the operations at fault
 */
public record CheckResult(Verdict verdict, String explanation) {

    public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, INCONCLUSIVE }

    public CheckResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(explanation, "explanation");
    }

    static CheckResult linearizable() {
        return new CheckResult(Verdict.LINEARIZABLE, "");
    }

    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }

    @Override
    public String toString() {
        return explanation.isEmpty() ? verdict.toString() : verdict + ": " + explanation;
    }
}
