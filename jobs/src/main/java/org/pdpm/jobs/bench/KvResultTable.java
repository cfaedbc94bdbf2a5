package org.pdpm.jobs.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/** {@code pdpm bench kv}'s configurations side by side, one column per (system, threads), for people. */
public final class KvResultTable {

    private static final int LABEL_WIDTH = 22;
    private static final int COLUMN_WIDTH = 14;

    private record Row(String label, Function<KvBenchmark.Result, String> value) {}

    private static final List<Row> ROWS = List.of(
            new Row("fabric", r -> String.valueOf(r.deployment().get("fabric"))),
            new Row("clients", r -> String.valueOf(r.deployment().get("clients"))),
            new Row("GETs in flight", r -> Integer.toString(r.inFlight())),
            new Row("throughput (ops/s)", r -> String.format(Locale.ROOT, "%,.0f", r.throughputOpsPerSecond())),
            new Row("GET p50 (us)", r -> micros(r.getNanos(), 50)),
            new Row("GET p99 (us)", r -> micros(r.getNanos(), 99)),
            new Row("PUT p50 (us)", r -> micros(r.putNanos(), 50)),
            new Row("PUT p99 (us)", r -> micros(r.putNanos(), 99)),
            new Row("round trips / GET", r -> ratio(r.roundTripsPerGet())),
            new Row("round trips / PUT", r -> ratio(r.roundTripsPerPut())),
            new Row("round trips / s", r -> rate(r.roundTripsPerSecond())),
            new Row("fabric reads / s", r -> r.fabric() == null ? "-" : rate(r.fabric().verbsPerSecond())),
            new Row("fabric depth", r -> r.fabric() == null ? "-" : Integer.toString(r.fabric().depth())),
            new Row("share of fabric", r -> share(r.fabricTargetRatio())),
            new Row("fabric reads / s, same shape", r -> r.fabric() == null || r.fabric().sameShapeVerbsPerSecond() == null
                    ? "-" : rate(r.fabric().sameShapeVerbsPerSecond())),
            new Row("share of same shape", r -> share(r.sameShapeRatio())),
            new Row("ops", r -> String.format(Locale.ROOT, "%,d", r.ops())),
            new Row("seconds", r -> String.format(Locale.ROOT, "%.3f", r.seconds())),
            new Row("load seconds", r -> String.format(Locale.ROOT, "%.3f", r.preparation().loadSeconds())));

    private KvResultTable() {}

    public static String format(List<KvBenchmark.Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(pad("system / threads", LABEL_WIDTH));
        for (KvBenchmark.Result r : results) {
            sb.append(leftPad(r.system() + "/" + r.threads(), COLUMN_WIDTH));
        }
        sb.append('\n');
        for (Row row : ROWS) {
            sb.append(pad(row.label(), LABEL_WIDTH));
            for (KvBenchmark.Result r : results) {
                sb.append(leftPad(row.value().apply(r), COLUMN_WIDTH));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? "-"
                : String.format(Locale.ROOT, "%.1f", h.getValueAtPercentile(percentile) / 1000.0);
    }

    private static String rate(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%,.0f", d);
    }

    /** Three decimals: the shares of a slow workload are well below one in a hundred. */
    private static String share(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.3f", d);
    }

    private static String ratio(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.2f", d);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }

    private static String leftPad(String s, int width) {
        return s.length() >= width ? " " + s : " ".repeat(width - s.length()) + s;
    }
}
