package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BenchKvCommandTest {

    private static final List<String> FIELDS = List.of("system", "fabric", "workload", "distribution", "zipf", "keys",
            "value_size", "replication", "threads", "ops", "seconds", "throughput_ops_per_s", "latency_us",
            "round_trips_per_op", "seed", "machine", "metadata_server", "clients", "load_seconds", "in_flight",
            "round_trips_per_s", "fabric_pipelined_verbs_per_s", "fabric_pipeline_depth", "fabric_target_ratio",
            "fabric_same_shape_verbs_per_s", "fabric_same_shape_ratio");

    @TempDir
    Path dir;

    @Test
    void cloverAndRocksDbOnLocalGiveOneLinePerSystemAndThreadCount() throws IOException {
        Path outFile = dir.resolve("kv.jsonl");
        Path chart = dir.resolve("kv.png");
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover,rocksdb", "--fabric", "local",
                "--keys", "2000", "--ops", "4000", "--threads", "1,2", "--seed", "7", "--out", outFile.toString(),
                "--chart", chart.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(Files.readAllLines(outFile)).containsExactlyElementsOf(lines);
        for (String line : lines) {
            for (String field : FIELDS) {
                assertThat(line).as(line).contains("\"" + field + "\":");
            }
            assertThat(text(line, "workload")).isEqualTo("a");
            assertThat(text(line, "distribution")).isEqualTo("zipfian");
            assertThat(number(line, "zipf")).isEqualTo(0.99);
            assertThat(number(line, "keys")).isEqualTo(2000);
            assertThat(number(line, "value_size")).isEqualTo(1000);
            assertThat(number(line, "ops")).isEqualTo(4000);
            assertThat(number(line, "seed")).isEqualTo(7);
            assertThat(number(line, "seconds")).isPositive();
            assertThat(number(line, "throughput_ops_per_s")).isPositive();
            for (String op : List.of("get", "put")) {
                Matcher m = Pattern.compile("\"" + op + "\":\\{\"p50\":([0-9.]+),\"p99\":([0-9.]+)}").matcher(line);
                assertThat(m.find()).as(op + " latency in " + line).isTrue();
                assertThat(Double.parseDouble(m.group(1))).isPositive()
                        .isLessThanOrEqualTo(Double.parseDouble(m.group(2)));
            }
            // Workload A: half the operations are updates.
            assertThat(number(line, "\"op_counts\":\\{\"get\"")).isBetween(1800.0, 2200.0);
        }

        String clover1 = lines.get(0);
        String clover2 = lines.get(1);
        assertThat(text(clover1, "system")).isEqualTo("clover");
        assertThat(number(clover1, "threads")).isEqualTo(1);
        assertThat(number(clover2, "threads")).isEqualTo(2);
        for (String clover : List.of(clover1, clover2)) {
            assertThat(text(clover, "fabric")).isEqualTo("local");
            assertThat(number(clover, "replication")).isEqualTo(1);
            assertThat(text(clover, "metadata_server")).isEqualTo("embedded");
            assertThat(text(clover, "clients")).isEqualTo("one per thread");
            assertThat(number(clover, "in_flight")).isEqualTo(1);
            assertThat(number(clover, "round_trips_per_s")).isPositive();
            // The local fabric is no yardstick: nothing is measured there.
            assertThat(clover).contains("\"fabric_pipelined_verbs_per_s\":null", "\"fabric_pipeline_depth\":null",
                    "\"fabric_target_ratio\":null", "\"fabric_same_shape_verbs_per_s\":null");
        }
        // One warm client: a GET is one READ, a PUT one WRITE and one CAS (plus a rare grant of space).
        assertThat(roundTrips(clover1, "get")).isBetween(1.0, 1.05);
        assertThat(roundTrips(clover1, "put")).isBetween(2.0, 2.1);
        // Two clients on the same hot keys: a cursor the other client moved on costs a hop to read and,
        // to write, a lost CAS, a READ of the new tail and a rewritten header before the second CAS.
        assertThat(roundTrips(clover2, "get")).isBetween(1.0, 2.0);
        assertThat(roundTrips(clover2, "put")).isBetween(2.0, 4.0);

        for (String rocks : lines.subList(2, 4)) {
            assertThat(text(rocks, "system")).isEqualTo("rocksdb");
            assertThat(text(rocks, "fabric")).isEqualTo("none");
            assertThat(rocks).contains("\"replication\":null", "\"round_trips_per_op\":{\"get\":null,\"put\":null}",
                    "\"metadata_server\":null", "\"clients\":\"shared\"", "\"round_trips_per_s\":null",
                    "\"fabric_pipelined_verbs_per_s\":null", "\"fabric_target_ratio\":null");
        }
        assertThat(run.err()).contains("clover/1", "clover/2", "rocksdb/1", "rocksdb/2", "throughput (ops/s)",
                "GETs in flight", "share of fabric");
        try (InputStream png = Files.newInputStream(chart)) {
            assertThat(png.readNBytes(8)).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n');
        }
    }

    @Test
    void readOnlyUniformRunHasNoPutFigures() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", "--workload", "c",
                "--uniform", "--keys", "500", "--ops", "1000", "--threads", "1", "--value-size", "100");

        assertThat(run.exitCode()).as(run.err()).isZero();
        String line = run.out().strip();
        assertThat(text(line, "workload")).isEqualTo("c");
        assertThat(text(line, "distribution")).isEqualTo("uniform");
        assertThat(line).contains("\"zipf\":null", "\"put\":null", "\"op_counts\":{\"get\":1000,\"put\":0}");
        assertThat(roundTrips(line, "get")).isEqualTo(1.0);
    }

    @Test
    void cloverOnTcpRunsOnChildMemoryNodesAndStopsThem() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", "--fabric", "tcp",
                "--replication", "1", "--workload", "write-only", "--keys", "200", "--ops", "200", "--threads", "1",
                "--value-size", "100");

        assertThat(run.exitCode()).as(run.err()).isZero();
        String line = run.out().strip();
        assertThat(text(line, "fabric")).isEqualTo("tcp");
        assertThat(text(line, "workload")).isEqualTo("write-only");
        assertThat(line).contains("\"get\":null");
        assertThat(roundTrips(line, "put")).isBetween(2.0, 2.2);
        assertThat(number(line, "fabric_pipeline_depth")).isEqualTo(1);
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
    }

    @Test
    void inFlightGetsOnLocalDoEveryOperation() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", "--workload", "b",
                "--keys", "1000", "--ops", "3000", "--threads", "1,2", "--value-size", "100", "--in-flight", "8");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        for (String line : lines) {
            assertThat(number(line, "in_flight")).isEqualTo(8);
            assertThat(number(line, "ops")).isEqualTo(3000);
            double gets = number(line, "\"op_counts\":\\{\"get\"");
            double puts = number(line, "\"op_counts\":\\{\"get\":[0-9]+,\"put\"");
            assertThat(gets + puts).isEqualTo(3000);
            // Workload B: 5 % updates.
            assertThat(puts).isBetween(90.0, 210.0);
            assertThat(roundTrips(line, "get")).isBetween(1.0, 2.0);
            assertThat(number(line, "round_trips_per_s")).isPositive();
            assertThat(line).contains("\"fabric_pipelined_verbs_per_s\":null");
        }
        assertThat(run.err()).containsPattern("GETs in flight +8 +8");
    }

    @Test
    void inFlightGetsOnTcpAreHeldAgainstTheFabricsPipelineAtTheSameDepth() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", "--fabric", "tcp",
                "--workload", "c", "--keys", "300", "--ops", "3000", "--threads", "1,2", "--value-size", "100",
                "--in-flight", "4");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        for (int i = 0; i < 2; i++) {
            String line = lines.get(i);
            assertThat(text(line, "fabric")).isEqualTo("tcp");
            assertThat(number(line, "in_flight")).isEqualTo(4);
            assertThat(line).contains("\"op_counts\":{\"get\":3000,\"put\":0}");
            assertThat(number(line, "fabric_pipeline_depth")).isEqualTo(4 * (i + 1));
            double roundTripsPerSecond = number(line, "round_trips_per_s");
            double fabric = number(line, "fabric_pipelined_verbs_per_s");
            assertThat(roundTripsPerSecond).isPositive();
            assertThat(fabric).isPositive();
            assertThat(number(line, "fabric_target_ratio")).isCloseTo(roundTripsPerSecond / fabric,
                    org.assertj.core.api.Assertions.within(1e-3));
            double sameShape = number(line, "fabric_same_shape_verbs_per_s");
            assertThat(sameShape).isPositive();
            assertThat(number(line, "fabric_same_shape_ratio")).isCloseTo(roundTripsPerSecond / sameShape,
                    org.assertj.core.api.Assertions.within(1e-3));
        }
        assertThat(run.err()).contains("share of fabric", "fabric reads / s", "share of same shape");
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1025", "-3"})
    void inFlightOutsideOneToMaxIsRefusedByName(String n) {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", "--in-flight", n);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("pdpm bench kv: --in-flight=" + n + " must be 1..1024");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--fabric=disni", "--zipf=1.5", "--workload=d", "--threads=0", "--keys=1",
        "--replication=4", "--value-size=0", "--system=nosuch", "--lineage=-1", "--lineage=5"})
    void badArgumentsAreUsageErrors(String bad) {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "clover", bad);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("pdpm bench kv: ").contains("--help");
    }

    @Test
    void helpNamesEveryOption() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--system", "--fabric", "--workload", "--keys", "--ops", "--duration-ms",
                "--value-size", "--threads", "--in-flight", "--zipf", "--uniform", "--seed", "--replication", "--out",
                "--chart", "--lineage");
    }

    private static double roundTrips(String json, String op) {
        Matcher m = Pattern.compile("\"round_trips_per_op\":\\{.*?\"" + op + "\":([0-9.]+)").matcher(json);
        assertThat(m.find()).as("round trips per " + op + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static String text(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":\"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as("field " + field + " in " + json).isTrue();
        return m.group(1);
    }

    /** The first number after {@code "field":}; {@code field} may be a regex reaching into nested objects. */
    private static double number(String json, String field) {
        String key = field.startsWith("\"") ? field : "\"" + field + "\"";
        Matcher m = Pattern.compile(key + ":(-?[0-9.Ee+-]+)[,}]").matcher(json);
        assertThat(m.find()).as("field " + field + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
