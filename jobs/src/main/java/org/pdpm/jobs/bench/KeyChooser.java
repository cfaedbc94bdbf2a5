package org.pdpm.jobs.bench;

import java.util.SplittableRandom;

/**
 * Which of the keys 0..n−1 the next operation touches. Stateless apart from the caller's random
 * source, so a run is reproduced by its seed and threads share one chooser.
 */
public interface KeyChooser {

    /** The next key index, drawn from {@code random}. */
    long next(SplittableRandom random);

    /** {@code zipfian} or {@code uniform}, as the benchmark output names it. */
    String distribution();

    /** The skew θ, or NaN for the uniform chooser. */
    double theta();

    /**
     * YCSB's scrambled Zipfian: a Zipfian rank, hashed (64-bit FNV-1a over its bytes) onto the key
     * space, so that the popular keys are spread over it instead of being its first few — which
     * would favour stores that keep neighbouring keys together. Ranks that hash to the same key
     * add up, as in YCSB.
     */
    static KeyChooser scrambledZipfian(long keys, double theta) {
        Zipfian zipfian = new Zipfian(keys, theta);
        return new KeyChooser() {
            @Override
            public long next(SplittableRandom random) {
                return keyOfRank(zipfian.rank(random.nextDouble()), keys);
            }

            @Override
            public String distribution() {
                return "zipfian";
            }

            @Override
            public double theta() {
                return theta;
            }
        };
    }

    /** Every key equally likely. */
    static KeyChooser uniform(long keys) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys=" + keys + " must be positive");
        }
        return new KeyChooser() {
            @Override
            public long next(SplittableRandom random) {
                return random.nextLong(keys);
            }

            @Override
            public String distribution() {
                return "uniform";
            }

            @Override
            public double theta() {
                return Double.NaN;
            }
        };
    }

    /** Where the scrambled chooser puts {@code rank}. */
    static long keyOfRank(long rank, long keys) {
        return Math.floorMod(fnv1a64(rank), keys);
    }

    /** 64-bit FNV-1a over the eight little-endian bytes of {@code value}, as YCSB's {@code Utils.fnvhash64}. */
    static long fnv1a64(long value) {
        long hash = 0xCBF29CE484222325L;
        long v = value;
        for (int i = 0; i < 8; i++) {
            hash ^= v & 0xFF;
            hash *= 0x100000001B3L;
            v >>>= 8;
        }
        return hash;
    }
}
