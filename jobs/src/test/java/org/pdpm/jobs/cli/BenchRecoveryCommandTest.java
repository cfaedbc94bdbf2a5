package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code pdpm bench recovery} on small sizes: it restarts the server and finds every key. */
class BenchRecoveryCommandTest {

    @Test
    void reportsTheRestartOfAServerThatRecoveredEveryKey() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "recovery", "--keys", "3000", "--fabric", "local");
        assertThat(run.exitCode()).as(run.err()).isZero();
        String line = run.out().strip();
        assertThat(line).startsWith("{\"benchmark\":\"metaserver_recovery\",\"fabric\":\"local\",\"keys\":3000,")
                .contains("\"keys_recovered\":3000,")
                .containsPattern("\"restart_ms\":\\d+,")
                .containsPattern("\"first_cold_get_us\":\\d+,");
    }

    @Test
    void refusesAKeyCountThatIsNotPositive() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "recovery", "--keys", "0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--keys=0 must be positive");
    }
}
