package org.pdpm.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class KeyChooserTest {

    private static final int DRAWS = 200_000;

    @Test
    void sameSeedSameKeysOtherSeedOtherKeys() {
        KeyChooser chooser = KeyChooser.scrambledZipfian(1000, 0.99);
        long[] first = draw(chooser, 7, 1000);
        assertThat(draw(chooser, 7, 1000)).containsExactly(first);
        assertThat(draw(chooser, 8, 1000)).isNotEqualTo(first);
        assertThat(LongStream.of(first)).allMatch(k -> k >= 0 && k < 1000);
    }

    @Test
    void zipfianRanksZeroAndOneComeOutWithTheirExactProbability() {
        Zipfian zipfian = new Zipfian(100, 0.99);
        SplittableRandom random = new SplittableRandom(1);
        long[] counts = new long[100];
        for (int i = 0; i < DRAWS; i++) {
            counts[(int) zipfian.rank(random.nextDouble())]++;
        }
        // For n = 100 and θ = 0.99, rank 0 has 1/ζ(100) ≈ 19 % of the draws.
        assertThat(zipfian.probability(0)).isBetween(0.18, 0.20);
        assertThat(counts[0] / (double) DRAWS).isCloseTo(zipfian.probability(0), within(0.005));
        assertThat(counts[1] / (double) DRAWS).isCloseTo(zipfian.probability(1), within(0.005));
        // The tail is the closed-form approximation: still decreasing, roughly as the power law says.
        assertThat(counts[9]).isGreaterThan(counts[49]);
        assertThat(LongStream.of(counts).sum()).isEqualTo(DRAWS);
    }

    @Test
    void scrambledZipfianMovesTheHottestKeyButKeepsItsShare() {
        long keys = 100;
        KeyChooser chooser = KeyChooser.scrambledZipfian(keys, 0.99);
        Zipfian zipfian = new Zipfian(keys, 0.99);
        long[] counts = new long[(int) keys];
        for (long k : draw(chooser, 3, DRAWS)) {
            counts[(int) k]++;
        }
        int hottest = 0;
        for (int k = 1; k < keys; k++) {
            if (counts[k] > counts[hottest]) {
                hottest = k;
            }
        }
        assertThat((long) hottest).isEqualTo(KeyChooser.keyOfRank(0, keys));
        // Ranks that hash onto the same key add up, as in YCSB; the hottest key gets rank 0's share and theirs.
        double expected = 0;
        for (long r = 0; r < keys; r++) {
            if (KeyChooser.keyOfRank(r, keys) == hottest) {
                expected += zipfian.probability(r);
            }
        }
        assertThat(counts[hottest] / (double) DRAWS).isCloseTo(expected, within(0.01))
                .isGreaterThanOrEqualTo(zipfian.probability(0) - 0.005);
    }

    @Test
    void uniformIsFlat() {
        KeyChooser chooser = KeyChooser.uniform(100);
        long[] counts = new long[100];
        for (long k : draw(chooser, 5, DRAWS)) {
            counts[(int) k]++;
        }
        // 2,000 expected per key, standard deviation about 44: 15 % is more than six of them.
        assertThat(LongStream.of(counts)).allMatch(c -> Math.abs(c - 2000) < 300);
        assertThat(chooser.distribution()).isEqualTo("uniform");
        assertThat(chooser.theta()).isNaN();
    }

    @Test
    void fnvMatchesYcsbFnvHash64() {
        // FNV-1a of eight zero bytes: the offset basis run through eight rounds of multiply by the prime.
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < 8; i++) {
            h *= 0x100000001B3L;
        }
        assertThat(KeyChooser.fnv1a64(0)).isEqualTo(h);
        assertThat(KeyChooser.fnv1a64(1)).isNotEqualTo(KeyChooser.fnv1a64(256));
    }

    @Test
    void thetaOutsideTheMethodsRangeIsRefused() {
        assertThatThrownBy(() -> new Zipfian(100, 1.0)).hasMessageContaining("theta=1.0");
        assertThatThrownBy(() -> new Zipfian(100, 0)).hasMessageContaining("theta=0.0");
        assertThatThrownBy(() -> new Zipfian(1, 0.5)).hasMessageContaining("items=1");
    }

    private static long[] draw(KeyChooser chooser, long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = chooser.next(random);
        }
        return keys;
    }
}
