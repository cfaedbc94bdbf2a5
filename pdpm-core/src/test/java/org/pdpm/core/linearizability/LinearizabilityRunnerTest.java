package org.pdpm.core.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.api.ReferenceKvStore;
import org.pdpm.core.linearizability.CrashingKvStore.ClientCrashedException;

class LinearizabilityRunnerTest {

    private static final String FAILURE_FOR_A_SEED =
            "(?s)history not linearizable for seed=(\\d+) \\(replay with -Dpdpm\\.lin\\.seed=\\1\\): key s\\1-k\\d: .*";

    @Test
    void aCorrectStorePasses500SeededHistories() {
        RunSummary summary = LinearizabilityRunner.forSharedStore(LinearizabilityRunnerTest::referenceStore).run();

        System.out.println("reference store: " + summary);
        assertThat(summary.histories()).isEqualTo(500);
        assertThat(summary.operations()).isEqualTo(500L * 4 * 30);
        assertThat(summary.unknownOutcomes()).isZero();
    }

    @Test
    void findsStaleReadsFromAClientCacheAndNamesTheSeed() {
        LinearizabilityRunner runner = LinearizabilityRunner.forClients(() -> handlesOnOneStore(StaleReadKvStore::new));

        assertThatThrownBy(runner::run)
                .isInstanceOf(AssertionError.class)
                .satisfies(failure -> System.out.println("stale reads: " + failure.getMessage()))
                .hasMessageMatching(FAILURE_FOR_A_SEED);
    }

    @Test
    void findsAPutThatIsNotAtomicWithRespectToReads() {
        LinearizabilityRunner runner =
                LinearizabilityRunner.forSharedStore(() -> new TornPutKvStore(referenceStore()));

        assertThatThrownBy(runner::run)
                .isInstanceOf(AssertionError.class)
                .satisfies(failure -> System.out.println("torn puts: " + failure.getMessage()))
                .hasMessageMatching(FAILURE_FOR_A_SEED)
                .hasMessageContaining("-> absent");
    }

    @Test
    void checksWritesThatThrewAsPending() {
        RunSummary summary = LinearizabilityRunner.forClients(() -> handlesOnOneStore(CrashingKvStore::new))
                .treatAsUnknownOutcome(ClientCrashedException.class)
                .histories(100)
                .run();

        assertThat(summary.histories()).isEqualTo(100);
        assertThat(summary.unknownOutcomes()).isPositive();
    }

    @Test
    void anExceptionNotDeclaredAnUnknownOutcomeFailsTheRunNamingClientAndSeed() {
        LinearizabilityRunner runner = LinearizabilityRunner.forClients(() -> handlesOnOneStore(CrashingKvStore::new))
                .firstSeed(7);

        assertThatThrownBy(runner::run)
                .isInstanceOf(AssertionError.class)
                .hasCauseInstanceOf(ClientCrashedException.class)
                .hasMessageMatching("client \\d failed for seed=7 \\(replay with -Dpdpm\\.lin\\.seed=7\\): "
                        + ".*ClientCrashedException: crashed after write 1");
    }

    @Test
    void aClientThatHangsFailsTheRunAfterTheTimeout() {
        CountDownLatch release = new CountDownLatch(1);
        KvStore hanging = new ForwardingKvStore(referenceStore()) {
            @Override
            public byte[] get(byte[] key) {
                awaitUninterruptibly(release);
                return super.get(key);
            }
        };
        LinearizabilityRunner runner = LinearizabilityRunner.forSharedStore(() -> hanging)
                .historyTimeout(Duration.ofMillis(200))
                .firstSeed(3);
        try {
            assertThatThrownBy(runner::run)
                    .isInstanceOf(AssertionError.class)
                    .hasMessageMatching("client \\d did not finish within historyTimeout=PT0.2S for seed=3 "
                            + "\\(replay with -Dpdpm\\.lin\\.seed=3\\)");
        } finally {
            release.countDown();
        }
    }

    @Test
    void runsTheConfiguredSeedsWithKeysNamedAfterEachSeed() {
        ReferenceKvStore reused = referenceStore();
        KvStore unclosable = new ForwardingKvStore(reused) {
            @Override
            public void close() {
                // Kept open across histories, to read back which keys were used.
            }
        };

        RunSummary summary = LinearizabilityRunner.forSharedStore(() -> unclosable)
                .firstSeed(42)
                .histories(3)
                .run();

        assertThat(summary.histories()).isEqualTo(3);
        TreeSet<String> seedsUsed = new TreeSet<>();
        try (KvCursor cursor = reused.scan(new byte[0])) {
            cursor.forEachRemaining(entry ->
                    seedsUsed.add(new String(entry.key(), StandardCharsets.UTF_8).replaceAll("-k\\d$", "")));
        }
        assertThat(seedsUsed).isSubsetOf("s42", "s43", "s44").isNotEmpty();
    }

    @Test
    void rejectsAnEmptyWorkload() {
        LinearizabilityRunner runner = LinearizabilityRunner.forSharedStore(LinearizabilityRunnerTest::referenceStore);

        assertThatThrownBy(() -> runner.clients(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("clients=0 must be positive");
        assertThatThrownBy(() -> runner.keys(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("keys=-1 must be positive");
        assertThatThrownBy(() -> runner.historyTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("historyTimeout=PT0S must be positive");
    }

    /** The obviously correct store, with room for the runner's keys and values. */
    private static ReferenceKvStore referenceStore() {
        return new ReferenceKvStore(new KvLimits(64, 64));
    }

    /** Per history, one shared store and a handle on it for each client. */
    private static ClientFactory handlesOnOneStore(UnaryOperator<KvStore> handle) {
        ReferenceKvStore shared = referenceStore();
        return new ClientFactory() {
            @Override
            public KvStore client(int clientId) {
                return handle.apply(shared);
            }

            @Override
            public void close() {
                shared.close();
            }
        };
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
