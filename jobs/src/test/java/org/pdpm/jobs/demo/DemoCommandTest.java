package org.pdpm.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.jobs.cli.PdpmCommand;
import org.pdpm.jobs.sample.AmnesicStateBackendFactory;

/**
 * {@code pdpm demo} end to end, in this JVM: small runs, the input rate capped so that a checkpoint
 * completes before the TaskManager is killed at 40 %.
 */
class DemoCommandTest {

    /** 50,000 events at 10,000/s: 5 s of input per backend, a checkpoint every 300 ms. */
    private static final String[] SMALL = {"--events", "50000", "--rate", "10000", "--checkpoint-interval", "300",
        "--users", "1000"};

    /** One row of the table: backend, events/s, checkpoints, mean, max, recovery, verdict. */
    private static final Pattern ROW = Pattern.compile(
            "(?m)^(\\S+)\\s+([\\d,]+)\\s+(\\d+)\\s+([\\d,]+)\\s+([\\d,]+)\\s+([\\d,]+|-)\\s+(yes|NO)$");

    record Run(int exitCode, String out, String err) {}

    static Run pdpm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PdpmCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        // Kept in the test's output file (surefire) for whoever reads a failure.
        System.out.println("pdpm " + String.join(" ", args) + " -> exit " + code + "\n" + out + err);
        return new Run(code, out.toString(), err.toString());
    }

    static String[] args(String backends, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("demo", "--backends", backends));
        all.addAll(List.of(SMALL));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Budget: 60 s (about 25 s here). */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void hashmapAndRocksdbRecoverFromAKilledTaskManagerExactlyOnce() {
        Run run = pdpm(args("hashmap,rocksdb"));

        String context = run.out() + run.err();
        assertThat(run.exitCode()).as(context).isZero();
        assertThat(run.err()).as(context).isEmpty();
        for (String backend : List.of("hashmap", "rocksdb")) {
            assertThat(run.out()).as(context)
                    .containsPattern("\\[" + backend + "] \\d+% events, checkpoint \\d+ done in \\d+ ms")
                    .containsPattern("\\[" + backend + "] \\d+% events: killed TaskManager \\d+ \\(latest checkpoint \\d+\\)")
                    .containsPattern("\\[" + backend + "] recovered from checkpoint \\d+: processing again \\d+ ms after the failure")
                    .contains("[" + backend + "] finished in ");
        }
        assertThat(run.out()).contains("backend  events/s  checkpoints  ckpt mean ms  ckpt max ms  recovery ms  results correct");
        Matcher rows = ROW.matcher(run.out());
        int seen = 0;
        while (rows.find()) {
            assertThat(rows.group(1)).isEqualTo(seen == 0 ? "hashmap" : "rocksdb");
            assertThat(number(rows.group(2))).as("events/s").isPositive();
            assertThat(number(rows.group(3))).as("checkpoints").isGreaterThanOrEqualTo(2);
            assertThat(number(rows.group(5))).as("max checkpoint ms").isGreaterThanOrEqualTo(number(rows.group(4)));
            assertThat(rows.group(6)).as("recovery ms").isNotEqualTo("-");
            assertThat(rows.group(7)).isEqualTo("yes");
            seen++;
        }
        assertThat(seen).as(context).isEqualTo(2);
        assertThat(run.out()).containsPattern("hashmap ran as HashMapStateBackend; TaskManager killed at event [\\d,]+, restored checkpoint \\d+")
                .containsPattern("rocksdb ran as EmbeddedRocksDBStateBackend; TaskManager killed at event [\\d,]+, restored checkpoint \\d+");
    }

    /** Budget: 30 s (about 8 s here). */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void withoutAFailureNoTaskManagerIsKilledAndNoRecoveryIsShown() {
        Run run = pdpm(args("hashmap", "--no-failure"));

        String context = run.out() + run.err();
        assertThat(run.exitCode()).as(context).isZero();
        assertThat(run.out()).as(context).contains(", no failure").doesNotContain("killed TaskManager")
                .doesNotContain("recovered from");
        Matcher row = ROW.matcher(run.out());
        assertThat(row.find()).as(context).isTrue();
        assertThat(row.group(1)).isEqualTo("hashmap");
        assertThat(row.group(6)).as("recovery ms").isEqualTo("-");
        assertThat(row.group(7)).isEqualTo("yes");
        assertThat(run.out()).contains("hashmap ran as HashMapStateBackend" + System.lineSeparator());
    }

    /** A backend that forgets its state on restore: the demo must say NO and exit 1. Budget: 60 s (about 12 s). */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aBackendThatLosesStateOnRecoveryIsReportedWrongWithExitCodeOne() {
        String amnesic = AmnesicStateBackendFactory.class.getName();
        Run run = pdpm(args(amnesic));

        String context = run.out() + run.err();
        assertThat(run.exitCode()).as(context).isEqualTo(1);
        assertThat(run.out()).as(context).contains("[" + amnesic + "] recovered from checkpoint")
                .contains("results WRONG: ")
                .containsPattern("(?m)^" + Pattern.quote(amnesic) + "\\s.*\\sNO$");
        assertThat(run.err()).as(context).isEqualTo("pdpm demo: not correct on " + amnesic + " (see above)" + System.lineSeparator());
    }

    /** Budget: 5 s. */
    @Test
    @Timeout(value = 5, unit = TimeUnit.SECONDS)
    void aBackendThatCannotBeLoadedFailsBeforeAnythingRuns() {
        Run run = pdpm("demo", "--backends", "hashmap,org.example.NoSuchStateBackendFactory");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("pdpm demo: state backend 'org.example.NoSuchStateBackendFactory' is not available")
                .hasLineCount(1);
    }

    /** Budget: 5 s. */
    @Test
    @Timeout(value = 5, unit = TimeUnit.SECONDS)
    void aFailureNeedsBothTaskManagersBusy() {
        Run run = pdpm("demo", "--backends", "hashmap", "--parallelism", "1");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("parallelism=1 leaves a TaskManager without tasks");
    }

    private static long number(String text) {
        return Long.parseLong(text.replace(",", ""));
    }
}
