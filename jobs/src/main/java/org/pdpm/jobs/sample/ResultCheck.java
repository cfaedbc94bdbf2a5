package org.pdpm.jobs.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sample job's output against the expected one, row by row: every user total (value + map
 * state, end-of-input timer) and every window (window state, window timers) must be there, equal,
 * and nothing else. The sums of all user totals are compared too: an event processed twice after
 * a restore makes the actual sum larger, an event lost makes it smaller.
 */
public record ResultCheck(
        long expectedRows,
        long actualRows,
        long userTotals,
        long windows,
        long missingRows,
        long unexpectedRows,
        long differingRows,
        long expectedEvents,
        long actualEvents,
        long expectedAmount,
        long actualAmount,
        List<String> examples) {

    private static final int MAX_EXAMPLES = 3;

    public boolean correct() {
        return missingRows == 0 && unexpectedRows == 0 && differingRows == 0 && expectedRows == actualRows
                && expectedEvents == actualEvents && expectedAmount == actualAmount;
    }

    public static ResultCheck compare(Map<ResultRow.Key, ResultRow> expected, Map<ResultRow.Key, ResultRow> actual) {
        long missing = 0;
        long differing = 0;
        long userTotals = 0;
        long windows = 0;
        long expectedEvents = 0;
        long expectedAmount = 0;
        List<String> examples = new ArrayList<>();
        for (ResultRow want : expected.values()) {
            if (want.kind == ResultRow.USER_TOTAL) {
                userTotals++;
                expectedEvents += want.count;
                expectedAmount += want.sum;
            } else {
                windows++;
            }
            ResultRow got = actual.get(want.key());
            if (got == null) {
                missing++;
                example(examples, "missing " + want);
            } else if (!got.equals(want)) {
                differing++;
                example(examples, "expected " + want + " but got " + got);
            }
        }
        long unexpected = 0;
        long actualEvents = 0;
        long actualAmount = 0;
        for (ResultRow got : actual.values()) {
            if (got.kind == ResultRow.USER_TOTAL) {
                actualEvents += got.count;
                actualAmount += got.sum;
            }
            if (!expected.containsKey(got.key())) {
                unexpected++;
                example(examples, "unexpected " + got);
            }
        }
        return new ResultCheck(expected.size(), actual.size(), userTotals, windows, missing, unexpected, differing,
                expectedEvents, actualEvents, expectedAmount, actualAmount, List.copyOf(examples));
    }

    private static void example(List<String> examples, String text) {
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(text);
        }
    }

    /** One line for people: what matched, or what did not. */
    public String summary() {
        if (correct()) {
            return String.format(Locale.ROOT,
                    "correct: %,d user totals and %,d windows equal the expected; %,d events, amounts sum to %,d",
                    userTotals, windows, actualEvents, actualAmount);
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "WRONG: of %,d expected rows %,d missing, %,d differ, %,d unexpected; events counted %,d (expected %,d),"
                        + " amounts sum to %,d (expected %,d)",
                expectedRows, missingRows, differingRows, unexpectedRows, actualEvents, expectedEvents,
                actualAmount, expectedAmount));
        if (actualEvents > expectedEvents) {
            sb.append(" — events counted twice");
        } else if (actualEvents < expectedEvents) {
            sb.append(" — events lost");
        }
        for (String example : examples) {
            sb.append("; ").append(example);
        }
        return sb.toString();
    }
}
