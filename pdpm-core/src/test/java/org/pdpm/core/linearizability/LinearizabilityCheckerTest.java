package org.pdpm.core.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.pdpm.core.linearizability.Operation.delete;
import static org.pdpm.core.linearizability.Operation.get;
import static org.pdpm.core.linearizability.Operation.pendingDelete;
import static org.pdpm.core.linearizability.Operation.pendingPut;
import static org.pdpm.core.linearizability.Operation.put;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pdpm.core.linearizability.CheckResult.Verdict;

class LinearizabilityCheckerTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private CheckResult check(Operation... history) {
        return checker.check(List.of(history));
    }

    @Test
    void acceptsTheEmptyHistory() {
        assertThat(check()).isEqualTo(new CheckResult(Verdict.LINEARIZABLE, ""));
    }

    @Test
    void acceptsASequentialHistoryThatFollowsTheRegister() {
        assertThat(check(
                get(0, "k", null, 1, 2),
                put(0, "k", "v1", 3, 4),
                get(1, "k", "v1", 5, 6),
                delete(1, "k", 7, 8),
                get(0, "k", null, 9, 10)).isLinearizable()).isTrue();
    }

    @Test
    void acceptsReadsOverlappingAWriteThatSeeTheOldThenTheNewValue() {
        assertThat(check(
                put(0, "k", "v1", 1, 10),
                get(1, "k", null, 2, 3),
                get(1, "k", "v1", 4, 5),
                get(2, "k", "v1", 11, 12)).isLinearizable()).isTrue();
    }

    @Test
    void acceptsOverlappingWritesTakingEffectInEitherOrder() {
        assertThat(check(
                put(0, "k", "v1", 1, 10),
                put(1, "k", "v2", 1, 10),
                get(2, "k", "v2", 2, 3),
                get(2, "k", "v1", 4, 5),
                get(3, "k", "v1", 11, 12)).isLinearizable()).isTrue();
    }

    @Test
    void countsIntervalsThatTouchAsOverlapping() {
        assertThat(check(
                put(0, "k", "v1", 1, 2),
                get(1, "k", null, 2, 3)).isLinearizable()).isTrue();
    }

    @Test
    void acceptsAPendingWriteTakingEffectLongAfterItsClientGaveUp() {
        assertThat(check(
                put(0, "k", "v1", 1, 2),
                pendingPut(1, "k", "v2", 3),
                get(2, "k", "v1", 4, 5),
                get(2, "k", "v2", 10, 11),
                get(3, "k", "v2", 12, 13)).isLinearizable()).isTrue();
    }

    @Test
    void acceptsAPendingWriteThatNeverTakesEffect() {
        assertThat(check(
                pendingPut(0, "k", "v1", 1),
                pendingDelete(1, "k", 2),
                get(2, "k", null, 5, 6),
                get(2, "k", null, 100, 101)).isLinearizable()).isTrue();
    }

    @Test
    void acceptsAPendingDeleteSeenAfterTheValueItRemoves() {
        assertThat(check(
                put(0, "k", "v1", 1, 2),
                pendingDelete(1, "k", 3),
                get(2, "k", "v1", 4, 5),
                get(2, "k", null, 6, 7)).isLinearizable()).isTrue();
    }

    @Test
    void ignoresAPendingReadWhichObservedNothing() {
        assertThat(check(
                put(0, "k", "v1", 1, 2),
                get(1, "k", null, 3, Operation.PENDING)).isLinearizable()).isTrue();
    }

    @Test
    void checksKeysIndependently() {
        // Read as one register this would fail: b is absent after a was written.
        assertThat(check(
                put(0, "a", "x", 1, 2),
                get(1, "b", null, 3, 4),
                get(1, "a", "x", 5, 6)).isLinearizable()).isTrue();
    }

    @Test
    void rejectsAStaleReadAfterACompletedWriteAndShowsTheWindow() {
        CheckResult result = check(
                put(0, "k", "v1", 1, 2),
                put(1, "k", "v2", 3, 4),
                get(2, "k", "v1", 5, 6));

        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.explanation()).isEqualTo("""
                key k: the 3 operations invoked by t=6 have no linearization; it breaks when this one returns: \
                client 2 get(k) -> "v1" [5..6]
                window (operations overlapping it and the last ones before it):
                  client 1 put(k, "v2") [3..4]
                  client 2 get(k) -> "v1" [5..6]
                "v1" was written by client 0 put(k, "v1") [1..2]""");
    }

    @Test
    void rejectsAReadOfAValueNeverWritten() {
        CheckResult result = check(
                put(0, "k", "v1", 1, 2),
                get(1, "k", "ghost", 3, 4));

        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.explanation()).isEqualTo("""
                key k: the 2 operations invoked by t=4 have no linearization; it breaks when this one returns: \
                client 1 get(k) -> "ghost" [3..4]
                window (operations overlapping it and the last ones before it):
                  client 0 put(k, "v1") [1..2]
                  client 1 get(k) -> "ghost" [3..4]
                "ghost" was never written to key k""");
    }

    @Test
    void rejectsSequentialReadsSeeingTheNewValueThenTheOld() {
        CheckResult result = check(
                put(0, "k", "v1", 1, 2),
                put(1, "k", "v2", 3, 10),
                get(2, "k", "v2", 4, 5),
                get(3, "k", "v1", 6, 7));

        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.explanation()).isEqualTo("""
                key k: the 4 operations invoked by t=7 have no linearization; it breaks when this one returns: \
                client 3 get(k) -> "v1" [6..7]
                window (operations overlapping it and the last ones before it):
                  client 1 put(k, "v2") [3..?]
                  client 2 get(k) -> "v2" [4..5]
                  client 3 get(k) -> "v1" [6..7]
                "v1" was written by client 0 put(k, "v1") [1..2]""");
    }

    @Test
    void rejectsAbsenceAfterACompletedWrite() {
        CheckResult result = check(
                put(0, "k", "v1", 1, 2),
                get(1, "k", null, 3, 4));

        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.explanation()).startsWith(
                "key k: the 2 operations invoked by t=4 have no linearization; it breaks when this one returns: "
                        + "client 1 get(k) -> absent [3..4]");
    }

    @Test
    void rejectsUndoingAPendingWriteOnceItWasSeen() {
        assertThat(check(
                pendingPut(0, "k", "v1", 1),
                get(1, "k", "v1", 2, 3),
                get(1, "k", null, 4, 5)).verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void reportsTheShortestFailingPrefixNotTheWholeHistory() {
        List<Operation> history = new ArrayList<>(List.of(
                put(0, "k", "v1", 1, 2),
                put(1, "k", "v2", 3, 4),
                get(2, "k", "v1", 5, 6)));
        for (int n = 0; n < 50; n++) {
            history.add(put(0, "k", "later" + n, 10 + 2 * n, 11 + 2 * n));
        }

        assertThat(checker.check(history).explanation())
                .startsWith("key k: the 3 operations invoked by t=6 have no linearization");
    }

    @Test
    void namesOnlyTheKeyThatFails() {
        CheckResult result = check(
                put(0, "a", "x", 1, 2),
                get(1, "a", "x", 3, 4),
                put(0, "b", "y", 1, 2),
                get(1, "b", null, 3, 4));

        assertThat(result.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(result.explanation()).startsWith("key b:").doesNotContain("(a");
    }

    @Test
    void reportsInconclusiveWhenTheSearchHitsItsBound() {
        CheckResult result = new LinearizabilityChecker(2).check(List.of(
                put(0, "k", "v1", 1, 2),
                get(1, "k", "v1", 3, 4),
                delete(0, "k", 5, 6)));

        assertThat(result).isEqualTo(new CheckResult(Verdict.INCONCLUSIVE,
                "key k: search gave up after maxStepsPerKey=2 steps on 3 operations"));
        assertThat(result.isLinearizable()).isFalse();
    }

    @Test
    void rejectsANonPositiveBound() {
        assertThatThrownBy(() -> new LinearizabilityChecker(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxStepsPerKey=0 must be positive");
    }

    @Test
    void acceptsGeneratedLinearizableHistoriesOfHundredsOfOperationsPerKey() {
        LinearizabilityChecker bounded = new LinearizabilityChecker(200_000);
        for (long seed = 1; seed <= 200; seed++) {
            // 4 clients × 225 calls over 3 keys: about 300 operations per key.
            List<Operation> history = LinearizableHistories.generate(seed, 4, 3, 225);
            assertThat(bounded.check(history)).as("seed=%d", seed).isEqualTo(CheckResult.linearizable());
        }
    }

    @Test
    void rejectsGeneratedHistoriesWithOneReadCorrupted() {
        for (long seed = 1; seed <= 100; seed++) {
            List<Operation> history = new ArrayList<>(LinearizableHistories.generate(seed, 4, 3, 225));
            int victim = indexOfSomeCompletedGet(history, seed);
            Operation read = history.get(victim);
            history.set(victim, get(read.client(), read.key(), "corrupt", read.invokedAt(), read.returnedAt()));

            CheckResult result = checker.check(history);
            assertThat(result.verdict()).as("seed=%d", seed).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(result.explanation()).as("seed=%d", seed)
                    .startsWith("key " + read.key() + ":")
                    .contains("\"corrupt\" was never written to key " + read.key());
        }
    }

    private static int indexOfSomeCompletedGet(List<Operation> history, long seed) {
        int start = (int) (seed * 7919 % history.size());
        for (int i = 0; i < history.size(); i++) {
            int index = (start + i) % history.size();
            if (history.get(index).kind() == Operation.Kind.GET) {
                return index;
            }
        }
        throw new IllegalStateException("no GET in the history of seed=" + seed);
    }
}
