package org.pdpm.jobs.bench;

/**
 * Ranks 0..n−1 drawn with probability proportional to 1/(rank+1)^θ, rank 0 the most popular, by
 * the method of Gray et al. ("Quickly Generating Billion-Record Synthetic Databases", SIGMOD '94),
 * as YCSB's {@code ZipfianGenerator} does it. Ranks 0 and 1 come out with exactly their Zipfian
 * probability; the tail is the paper's closed-form approximation. Immutable: the randomness is the
 * caller's, so threads share one instance and each draws from its own seeded source.
 */
public final class Zipfian {

    private final long items;
    private final double theta;
    private final double zetaN;
    private final double alpha;
    private final double eta;
    private final double secondThreshold;

    /**
     * @param items how many ranks, at least 2
     * @param theta the skew, in (0, 1): YCSB's default is 0.99; the method divides by 1 − θ
     */
    public Zipfian(long items, double theta) {
        if (items < 2) {
            throw new IllegalArgumentException("items=" + items + " must be at least 2");
        }
        if (!(theta > 0 && theta < 1)) {
            throw new IllegalArgumentException("theta=" + theta + " must be in (0, 1)");
        }
        this.items = items;
        this.theta = theta;
        // O(n) once per run; YCSB avoids it by drawing over 10^10 items, which would skew a small key space less than θ says.
        this.zetaN = zeta(items, theta);
        double zeta2 = zeta(2, theta);
        this.alpha = 1 / (1 - theta);
        this.eta = (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2 / zetaN);
        this.secondThreshold = 1 + Math.pow(0.5, theta);
    }

    private static double zeta(long n, double theta) {
        double sum = 0;
        for (long i = 1; i <= n; i++) {
            sum += 1 / Math.pow(i, theta);
        }
        return sum;
    }

    /** The rank that {@code u}, uniform in [0, 1), falls on. */
    public long rank(double u) {
        double uz = u * zetaN;
        if (uz < 1) {
            return 0;
        }
        if (uz < secondThreshold) {
            return 1;
        }
        long r = (long) (items * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(r, items - 1);
    }

    /** The exact Zipfian probability of {@code rank}. */
    public double probability(long rank) {
        return 1 / Math.pow(rank + 1, theta) / zetaN;
    }
}
