package org.pdpm.jobs.demo;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.pdpm.jobs.sample.RunReport;

/** The demo's runs side by side, one row per backend. */
public final class DemoTable {

    private record Column(String title, Function<RunReport, String> value) {}

    private static final List<Column> COLUMNS = List.of(
            new Column("backend", RunReport::backend),
            new Column("events/s", r -> Double.isNaN(r.eventsPerSecond()) ? "-"
                    : String.format(Locale.ROOT, "%,.0f", r.eventsPerSecond())),
            new Column("checkpoints", r -> Long.toString(r.completedCheckpoints())),
            new Column("ckpt mean ms", r -> millis(r.meanCheckpointMillis())),
            new Column("ckpt max ms", r -> millis(r.maxCheckpointMillis())),
            new Column("recovery ms", r -> millis(r.recoveryMillis())),
            new Column("results correct", r -> r.ok() ? "yes" : "NO"));

    private DemoTable() {}

    public static String format(List<RunReport> reports) {
        int[] widths = new int[COLUMNS.size()];
        for (int c = 0; c < COLUMNS.size(); c++) {
            widths[c] = COLUMNS.get(c).title().length();
            for (RunReport r : reports) {
                widths[c] = Math.max(widths[c], COLUMNS.get(c).value().apply(r).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        row(sb, widths, c -> COLUMNS.get(c).title());
        StringBuilder rule = new StringBuilder();
        for (int c = 0; c < widths.length; c++) {
            rule.append(c == 0 ? "" : "  ").append("-".repeat(widths[c]));
        }
        sb.append(rule).append('\n');
        for (RunReport r : reports) {
            row(sb, widths, c -> COLUMNS.get(c).value().apply(r));
        }
        sb.append('\n');
        sb.append("events/s: events ÷ processing time (first record to end of input, recovery gap excluded);\n");
        sb.append("checkpoint durations: end to end, from Flink's checkpoint statistics of the job;\n");
        sb.append("recovery: from the TaskManager kill to the first record processed by the restarted job;\n");
        sb.append("results correct: the job restored a checkpoint and every user total (value + map state, timer)\n");
        sb.append("  and every window equals the expected result computed from the seed, nothing more.\n");
        for (RunReport r : reports) {
            sb.append(String.format(Locale.ROOT, "%s ran as %s%s%n", r.backend(), r.stateBackendName(),
                    r.failureInjected() ? String.format(Locale.ROOT,
                            "; TaskManager killed at event %,d, restored checkpoint %s, source resumed at event %s",
                            r.failureAtIndex(), orNone(r.restoredCheckpointId()), orNone(r.resumedAtIndex())) : ""));
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, int[] widths, java.util.function.IntFunction<String> cell) {
        for (int c = 0; c < widths.length; c++) {
            String text = cell.apply(c);
            if (c > 0) {
                sb.append("  ");
            }
            // Names left, figures right, the verdict left.
            boolean left = c == 0 || c == widths.length - 1;
            String pad = " ".repeat(widths[c] - text.length());
            sb.append(left ? text + (c == widths.length - 1 ? "" : pad) : pad + text);
        }
        sb.append('\n');
    }

    private static String orNone(long value) {
        return value < 0 ? "(none)" : String.format(Locale.ROOT, "%,d", value);
    }

    private static String millis(long value) {
        return value < 0 ? "-" : String.format(Locale.ROOT, "%,d", value);
    }
}
