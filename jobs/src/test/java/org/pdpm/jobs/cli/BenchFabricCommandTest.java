package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchFabricCommandTest {

    private static final String[] TINY = {"--iterations", "50", "--warmup", "10", "--duration-ms", "50"};

    private static final List<String> NUMBERS = List.of("floor_rtt_us_p50", "read8_us_p50", "read8_us_p99",
            "write4k_flush_us_p50", "cas_us_p50", "batch32_read_us_p50", "pipelined_verbs_per_s", "pipeline_depth");

    @TempDir
    Path dir;

    @Test
    void localFabricWritesOneJsonLineWithEveryField() throws IOException {
        Path outFile = dir.resolve("bench.jsonl");
        PdpmCommandTest.Run run = bench("--fabric", "local", "--out", outFile.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(1);
        String line = lines.get(0);
        assertThat(line).startsWith("{\"fabric\":\"local\",\"machine\":{\"cores\":");
        for (String field : List.of("cores", "memory_bytes")) {
            assertThat(number(line, field)).as(field).isPositive();
        }
        assertThat(line).containsPattern("\"jvm\":\"[^\"]+\"").containsPattern("\"os\":\"[^\"]+\"");
        for (String field : NUMBERS) {
            assertThat(number(line, field)).as(field).isPositive();
        }
        assertThat(number(line, "pipeline_depth")).isEqualTo(64);
        assertThat(Files.readAllLines(outFile)).containsExactly(line);
        assertThat(run.err()).contains("floor RTT p50").contains("local");
    }

    @Test
    void outFileIsAppendedTo() throws IOException {
        Path outFile = Files.writeString(dir.resolve("bench.jsonl"), "{\"earlier\":1}\n");
        PdpmCommandTest.Run run = bench("--fabric", "local,local", "--pipeline-depth", "3", "--out", outFile.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().lines()).hasSize(1);
        List<String> written = Files.readAllLines(outFile);
        assertThat(written).hasSize(2);
        assertThat(written.get(0)).isEqualTo("{\"earlier\":1}");
        assertThat(number(written.get(1), "pipeline_depth")).isEqualTo(3);
    }

    @Test
    void unavailableDisniIsLeftOutAndTheOthersRun() {
        PdpmCommandTest.Run run = bench("--fabric", "local,disni");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().lines()).hasSize(1).allMatch(l -> l.startsWith("{\"fabric\":\"local\""));
        assertThat(run.err()).contains("pdpm bench fabric: disni left out: UNAVAILABLE");
    }

    @Test
    void failsWhenNoFabricCanRun() {
        PdpmCommandTest.Run run = bench("--fabric", "disni");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines().toList()).last().asString()
                .startsWith("pdpm bench fabric: no fabric could run here");
    }

    private static PdpmCommandTest.Run bench(String... args) {
        String[] all = new String[2 + args.length + TINY.length];
        all[0] = "bench";
        all[1] = "fabric";
        System.arraycopy(args, 0, all, 2, args.length);
        System.arraycopy(TINY, 0, all, 2 + args.length, TINY.length);
        return PdpmCommandTest.pdpm(all);
    }

    private static double number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":(-?[0-9.Ee+-]+)[,}]").matcher(json);
        assertThat(m.find()).as("field " + field + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
