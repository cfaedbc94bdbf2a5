package org.pdpm.core.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Says why one key's history is not linearizable, in terms a person can check by hand. It finds the
 * earliest return after which the history can no longer be linearized — the shortest failing prefix,
 * by binary search, since every prefix of a linearizable history is linearizable — and shows the
 * operation returning there with its window: the operations overlapping it and the last ones that
 * finished before it began. For each value read in the window it says where that value came from.
 */
final class FailureExplanation {

    private static final int MAX_WINDOW_LINES = 16;

    private final String key;
    private final List<Operation> operations;
    private final long maxSteps;

    FailureExplanation(String key, List<Operation> operations, long maxSteps) {
        this.key = key;
        this.operations = operations;
        this.maxSteps = maxSteps;
    }

    String explain() {
        long cut = earliestFailingCut();
        List<Operation> prefix = prefix(cut);
        Operation culprit = prefix.stream().filter(op -> op.returnedAt() == cut).findFirst().orElseThrow();
        List<Operation> window = window(prefix, culprit);
        StringBuilder text = new StringBuilder()
                .append("key ").append(key).append(": the ").append(prefix.size())
                .append(" operations invoked by t=").append(cut)
                .append(" have no linearization; it breaks when this one returns: ").append(culprit)
                .append("\nwindow (operations overlapping it and the last ones before it):");
        window.stream().limit(MAX_WINDOW_LINES).forEach(op -> text.append("\n  ").append(op));
        if (window.size() > MAX_WINDOW_LINES) {
            text.append("\n  ... and ").append(window.size() - MAX_WINDOW_LINES).append(" more");
        }
        for (String note : originsOfValuesRead(window)) {
            text.append('\n').append(note);
        }
        return text.toString();
    }

    /**
     * The earliest return time whose prefix fails. The whole history fails and adds, after its last
     * return, only calls still pending — which can always go last — so the last return time fails
     * too and starts the search. A prefix the search gives up on is not counted as failing, so the
     * reported prefix is always one proven to fail.
     */
    private long earliestFailingCut() {
        long[] cuts = operations.stream().filter(op -> !op.isPending())
                .mapToLong(Operation::returnedAt).distinct().sorted().toArray();
        int failing = cuts.length - 1;
        int passing = -1;
        while (failing - passing > 1) {
            int middle = (passing + failing) >>> 1;
            if (RegisterSearch.search(prefix(cuts[middle]), maxSteps) == RegisterSearch.Outcome.NOT_LINEARIZABLE) {
                failing = middle;
            } else {
                passing = middle;
            }
        }
        return cuts[failing];
    }

    /** The history as it stood at {@code time}: calls not yet returned are pending, later ones absent. */
    private List<Operation> prefix(long time) {
        List<Operation> prefix = new ArrayList<>();
        for (Operation op : operations) {
            if (op.invokedAt() > time) {
                continue;
            }
            Operation cutOff = op.cutAt(time);
            if (!(cutOff.isPending() && cutOff.kind() == Operation.Kind.GET)) {
                prefix.add(cutOff);
            }
        }
        return prefix;
    }

    private static List<Operation> window(List<Operation> prefix, Operation culprit) {
        List<Operation> window = new ArrayList<>();
        for (Operation op : prefix) {
            boolean overlaps = op.returnedAt() >= culprit.invokedAt();
            if (op == culprit || overlaps || isLastBefore(op, culprit, prefix)) {
                window.add(op);
            }
        }
        window.sort(Comparator.comparingLong(Operation::invokedAt).thenComparingInt(Operation::client));
        return window;
    }

    /** {@code op} finished before {@code culprit} began, and nothing ran wholly between the two. */
    private static boolean isLastBefore(Operation op, Operation culprit, List<Operation> prefix) {
        return prefix.stream().noneMatch(between ->
                op.returnedAt() < between.invokedAt() && between.returnedAt() < culprit.invokedAt());
    }

    private List<String> originsOfValuesRead(List<Operation> window) {
        TreeSet<String> valuesRead = new TreeSet<>();
        for (Operation op : window) {
            if (op.kind() == Operation.Kind.GET && op.value() != null && !writes(window, op.value())) {
                valuesRead.add(op.value());
            }
        }
        List<String> notes = new ArrayList<>();
        for (String value : valuesRead) {
            notes.add(operations.stream()
                    .filter(op -> op.kind() == Operation.Kind.PUT && op.value().equals(value))
                    .findFirst()
                    .map(writer -> Operation.quoted(value) + " was written by " + writer)
                    .orElse(Operation.quoted(value) + " was never written to key " + key));
        }
        return notes;
    }

    private static boolean writes(List<Operation> window, String value) {
        return window.stream().anyMatch(op -> op.kind() == Operation.Kind.PUT && Objects.equals(op.value(), value));
    }
}
