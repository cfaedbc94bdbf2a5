package org.pdpm.jobs.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The result check against hand-made corruptions of the expected output: each kind of damage a
 * broken backend or a broken failover could cause must make the check fail. Budget: 5 s.
 */
class ResultCheckTest {

    private static final SampleJobSettings JOB = new SampleJobSettings(20_000, 100, 10, 3, 1_000, 2, 0);

    private static Map<ResultRow.Key, ResultRow> expected() {
        return ExpectedResults.compute(JOB);
    }

    @Test
    void expectedResultAddsUpToTheGeneratedInput() {
        Map<ResultRow.Key, ResultRow> rows = expected();
        PurchaseGenerator generator = JOB.generator();
        long amount = 0;
        for (long i = 0; i < JOB.events(); i++) {
            amount += generator.at(i).amount;
        }
        long totalCount = 0;
        long totalSum = 0;
        long windowCount = 0;
        long windowSum = 0;
        for (ResultRow row : rows.values()) {
            if (row.kind == ResultRow.USER_TOTAL) {
                totalCount += row.count;
                totalSum += row.sum;
                assertThat(row.distinctItems).isBetween(1L, (long) JOB.items());
            } else {
                windowCount += row.count;
                windowSum += row.sum;
                assertThat(row.windowStart % JOB.windowMillis()).isZero();
            }
        }
        assertThat(totalCount).isEqualTo(JOB.events());
        assertThat(windowCount).isEqualTo(JOB.events());
        assertThat(totalSum).isEqualTo(amount).isEqualTo(windowSum);
        // 20 s of event time in 1 s windows, 100 users with about 10 purchases each per window.
        assertThat(rows.values().stream().filter(r -> r.kind == ResultRow.WINDOW).count()).isBetween(1_900L, 2_000L);
    }

    @Test
    void expectedOutputMatchesItself() {
        ResultCheck check = ResultCheck.compare(expected(), new HashMap<>(expected()));
        assertThat(check.correct()).as(check.summary()).isTrue();
        assertThat(check.summary()).startsWith("correct: 100 user totals and ");
        assertThat(check.userTotals()).isEqualTo(100);
    }

    @Test
    void anEventCountedTwiceInAUserTotalIsWrong() {
        ResultCheck check = corrupt(rows -> {
            ResultRow total = rows.get(new ResultRow.Key(ResultRow.USER_TOTAL, 7, -1));
            Purchase p = firstPurchaseOf(7);
            total.count++;
            total.sum += p.amount;
            total.itemDigest += PurchaseGenerator.itemDigestTerm(p.item, 1);
        });
        assertThat(check.correct()).isFalse();
        assertThat(check.differingRows()).isEqualTo(1);
        assertThat(check.actualEvents()).isEqualTo(JOB.events() + 1);
        assertThat(check.summary()).contains("WRONG").contains("events counted twice").contains("user 7 total");
    }

    @Test
    void anEventCountedTwiceInAWindowIsWrong() {
        ResultCheck check = corrupt(rows -> {
            ResultRow window = rows.values().stream().filter(r -> r.kind == ResultRow.WINDOW).findFirst().orElseThrow();
            window.count++;
        });
        assertThat(check.correct()).isFalse();
        assertThat(check.differingRows()).isEqualTo(1);
    }

    @Test
    void aLostWindowIsWrong() {
        ResultCheck check = corrupt(rows -> rows.values().removeIf(r -> r.kind == ResultRow.WINDOW && r.user == 3
                && r.windowStart == 5_000));
        assertThat(check.correct()).isFalse();
        assertThat(check.missingRows()).isEqualTo(1);
        assertThat(check.summary()).contains("missing user 3 window@5000");
    }

    @Test
    void aLostUserTotalIsWrong() {
        ResultCheck check = corrupt(rows -> rows.remove(new ResultRow.Key(ResultRow.USER_TOTAL, 42, -1)));
        assertThat(check.correct()).isFalse();
        assertThat(check.missingRows()).isEqualTo(1);
        assertThat(check.actualEvents()).isLessThan(JOB.events());
        assertThat(check.summary()).contains("events lost");
    }

    @Test
    void anExtraRowIsWrong() {
        ResultCheck check = corrupt(rows -> {
            ResultRow extra = ResultRow.window(1, 99_000_000, 1, 1);
            rows.put(extra.key(), extra);
        });
        assertThat(check.correct()).isFalse();
        assertThat(check.unexpectedRows()).isEqualTo(1);
    }

    @Test
    void aPurchaseCountedUnderTheWrongItemIsWrongEvenWithTheRightTotals() {
        // Count and sum stay right; only the map state differs: the digest must catch it.
        ResultCheck check = corrupt(rows -> {
            ResultRow total = rows.get(new ResultRow.Key(ResultRow.USER_TOTAL, 11, -1));
            Purchase p = firstPurchaseOf(11);
            int otherItem = (p.item + 1) % JOB.items();
            total.itemDigest += PurchaseGenerator.itemDigestTerm(otherItem, 1) - PurchaseGenerator.itemDigestTerm(p.item, 1);
        });
        assertThat(check.correct()).isFalse();
        assertThat(check.differingRows()).isEqualTo(1);
        assertThat(check.actualEvents()).isEqualTo(JOB.events());
    }

    @Test
    void theGeneratorIsAFunctionOfSeedAndIndex() {
        PurchaseGenerator a = new PurchaseGenerator(5, 100, 10);
        PurchaseGenerator b = new PurchaseGenerator(5, 100, 10);
        PurchaseGenerator otherSeed = new PurchaseGenerator(6, 100, 10);
        int differ = 0;
        for (long i = 0; i < 1_000; i++) {
            Purchase p = a.at(i);
            assertThat(p).usingRecursiveComparison().isEqualTo(b.at(i));
            assertThat(p.user).isBetween(0L, 99L);
            assertThat(p.item).isBetween(0, 9);
            assertThat(p.amount).isBetween(1L, PurchaseGenerator.MAX_AMOUNT);
            assertThat(p.timestampMillis).isEqualTo(i * PurchaseGenerator.SPACING_MILLIS);
            if (otherSeed.at(i).user != p.user) {
                differ++;
            }
        }
        assertThat(differ).isGreaterThan(900);
    }

    private static Purchase firstPurchaseOf(long user) {
        PurchaseGenerator generator = JOB.generator();
        for (long i = 0; ; i++) {
            Purchase p = generator.at(i);
            if (p.user == user) {
                return p;
            }
        }
    }

    private static ResultCheck corrupt(Consumer<Map<ResultRow.Key, ResultRow>> damage) {
        Map<ResultRow.Key, ResultRow> actual = new HashMap<>();
        for (ResultRow row : expected().values()) {
            ResultRow copy = new ResultRow();
            copy.kind = row.kind;
            copy.user = row.user;
            copy.windowStart = row.windowStart;
            copy.count = row.count;
            copy.sum = row.sum;
            copy.distinctItems = row.distinctItems;
            copy.itemDigest = row.itemDigest;
            actual.put(copy.key(), copy);
        }
        damage.accept(actual);
        return ResultCheck.compare(expected(), actual);
    }
}
