package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code pdpm job}: one run with its check and figures; bad names and options are refused. */
class JobCommandTest {

    /** Budget: 60 s (about 12 s here). */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void runsThePurchasesJobWithAnInjectedExceptionAndReportsItCorrect() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("job", "purchases", "--backend", "hashmap", "--failure", "exception",
                "--events", "40000", "--rate", "10000", "--checkpoint-interval", "300", "--users", "500");

        String context = run.out() + run.err();
        assertThat(run.exitCode()).as(context).isZero();
        assertThat(run.out()).as(context)
                .contains("job purchases on hashmap (HashMapStateBackend): 40,000 events, 500 users")
                .containsPattern("\\[hashmap] injected an exception at event [\\d,]+ \\(latest checkpoint \\d+\\)")
                .containsPattern("failure: +injected exception at event [\\d,]+; restored checkpoint \\d+, source resumed at event [\\d,]+; recovery [\\d,]+ ms")
                .contains("results:      correct: 500 user totals and ")
                .contains("verdict:      ok");
    }

    @Test
    void refusesAnUnknownJob() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("job", "wordcount", "--backend", "hashmap");
        assertThat(run.exitCode()).isEqualTo(2);
        PdpmCommandTest.assertOneLine(run.err(), "pdpm job: unknown job 'wordcount' (known: purchases)");
    }

    @Test
    void refusesAnUnknownFailure() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("job", "purchases", "--backend", "hashmap", "--failure", "meteor");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("pdpm job: ").contains("meteor");
    }

    @Test
    void refusesZeroEvents() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("job", "purchases", "--backend", "hashmap", "--events", "0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--events=0 must be positive");
    }
}
