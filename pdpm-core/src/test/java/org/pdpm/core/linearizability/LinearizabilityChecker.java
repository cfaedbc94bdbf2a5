package org.pdpm.core.linearizability;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks a {@link History} against a sequential key-value store: per key a register, GET returns its
 * value (or absent), PUT sets it, DELETE clears it. Operations on different keys never constrain each
 * other, and linearizability is compositional, so each key's sub-history is searched on its own
 * (Porcupine's P-compositionality); that keeps the search small.
 *
 * <p>The search ({@link RegisterSearch}) is bounded per key; past the bound the verdict is
 * {@link CheckResult.Verdict#INCONCLUSIVE} rather than a run that never ends.
 */
public final class LinearizabilityChecker {

    /** Far above what a few hundred operations per key from a handful of clients need. */
    public static final long DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;

    private final long maxStepsPerKey;

    public LinearizabilityChecker() {
        this(DEFAULT_MAX_STEPS_PER_KEY);
    }

    public LinearizabilityChecker(long maxStepsPerKey) {
        if (maxStepsPerKey < 1) {
            throw new IllegalArgumentException("maxStepsPerKey=" + maxStepsPerKey + " must be positive");
        }
        this.maxStepsPerKey = maxStepsPerKey;
    }

    /** Non-linearizable keys are reported first, in key order; then keys the search gave up on. */
    public CheckResult check(Collection<Operation> history) {
        String inconclusive = null;
        for (Map.Entry<String, List<Operation>> key : byKey(history).entrySet()) {
            List<Operation> operations = key.getValue();
            switch (RegisterSearch.search(operations, maxStepsPerKey)) {
                case NOT_LINEARIZABLE -> {
                    return new CheckResult(CheckResult.Verdict.NOT_LINEARIZABLE,
                            new FailureExplanation(key.getKey(), operations, maxStepsPerKey).explain());
                }
                case GAVE_UP -> {
                    if (inconclusive == null) {
                        inconclusive = "key " + key.getKey() + ": search gave up after maxStepsPerKey="
                                + maxStepsPerKey + " steps on " + operations.size() + " operations";
                    }
                }
                case LINEARIZABLE -> { }
            }
        }
        return inconclusive == null
                ? CheckResult.linearizable()
                : new CheckResult(CheckResult.Verdict.INCONCLUSIVE, inconclusive);
    }

    /** Each key's operations, leaving out pending GETs: they changed nothing and returned nothing. */
    private static Map<String, List<Operation>> byKey(Collection<Operation> history) {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation operation : history) {
            if (!(operation.isPending() && operation.kind() == Operation.Kind.GET)) {
                byKey.computeIfAbsent(operation.key(), k -> new ArrayList<>()).add(operation);
            }
        }
        return byKey;
    }
}
