package org.pdpm.jobs.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The fabrics' figures side by side, one column per fabric, for people; JSON is for tools. */
public final class ResultTable {

    private static final int LABEL_WIDTH = 30;
    private static final int COLUMN_WIDTH = 14;

    private record Row(String label, Function<FabricBenchmark.Result, String> value) {}

    private static final List<Row> ROWS = List.of(
            new Row("floor RTT p50 (us)", r -> micros(r.floorRttUsP50())),
            new Row("read 8 B p50 (us)", r -> micros(r.read8UsP50())),
            new Row("read 8 B p99 (us)", r -> micros(r.read8UsP99())),
            new Row("write 4 KiB + flush p50 (us)", r -> micros(r.write4kFlushUsP50())),
            new Row("CAS p50 (us)", r -> micros(r.casUsP50())),
            new Row("batch of 32 reads p50 (us)", r -> micros(r.batch32ReadUsP50())),
            new Row("pipelined reads/s", r -> String.format(Locale.ROOT, "%,d", r.pipelinedVerbsPerS())),
            new Row("pipeline depth", r -> Integer.toString(r.pipelineDepth())));

    private ResultTable() {}

    public static String format(List<FabricBenchmark.Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(pad("fabric", LABEL_WIDTH));
        for (FabricBenchmark.Result r : results) {
            sb.append(leftPad(r.fabric(), COLUMN_WIDTH));
        }
        sb.append('\n');
        for (Row row : ROWS) {
            sb.append(pad(row.label(), LABEL_WIDTH));
            for (FabricBenchmark.Result r : results) {
                sb.append(leftPad(row.value().apply(r), COLUMN_WIDTH));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String micros(double us) {
        return String.format(Locale.ROOT, "%.3f", us);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }

    private static String leftPad(String s, int width) {
        return s.length() >= width ? " " + s : " ".repeat(width - s.length()) + s;
    }
}
