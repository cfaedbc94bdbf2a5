package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code pdpm bench state} on small sizes (about 20 s): every backend reports every operation and
 * two checkpoints and a restore per size, and pdpm's checkpoint writes the same bytes whatever the size.
 */
class BenchStateCommandTest {

    private static final List<String> OPERATIONS = List.of("value.update", "value.get", "list.add", "list.get",
            "map.put", "map.get", "map.iterate");

    @Test
    void reportsEveryOperationAndCheckpointOfEveryBackend() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "state", "--backend", "pdpm,pdpm-writethrough,hashmap", "--keys", "500",
                "--ops", "2000", "--checkpoint-keys", "10,2000", "--local-size", "64m");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(3 * (OPERATIONS.size() + 2));
        for (String backend : List.of("pdpm", "pdpm-writethrough", "hashmap")) {
            for (String op : OPERATIONS) {
                assertThat(lines).anyMatch(l -> l.contains("\"backend\":\"" + backend + "\"")
                        && l.contains("\"operation\":\"" + op + "\"") && l.matches(".*\"ops_per_s\":[0-9.E]+.*"));
            }
        }
        List<Long> pdpmBytes = lines.stream().filter(l -> l.contains("\"backend\":\"pdpm\"")
                && l.contains("checkpoint_restore")).map(BenchStateCommandTest::checkpointBytes).toList();
        assertThat(pdpmBytes).hasSize(2);
        assertThat(pdpmBytes.get(0)).isEqualTo(pdpmBytes.get(1)).isLessThan(1024);
        assertThat(lines).filteredOn(l -> l.contains("checkpoint_restore"))
                .allMatch(l -> l.matches(".*\"first_checkpoint_ms\":[0-9.E]+.*\"checkpoint_ms\":[0-9.E]+.*"));
        List<Long> heapBytes = lines.stream().filter(l -> l.contains("\"backend\":\"hashmap\"")
                && l.contains("checkpoint_restore")).map(BenchStateCommandTest::checkpointBytes).toList();
        assertThat(heapBytes.get(1)).isGreaterThan(heapBytes.get(0));
    }

    @Test
    void refusesAnUnknownBackend() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "state", "--backend", "forst");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--backend=forst");
    }

    private static long checkpointBytes(String line) {
        Matcher m = Pattern.compile("\"checkpoint_bytes\":(\\d+)").matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return Long.parseLong(m.group(1));
    }
}
