package org.pdpm.jobs.bench;

import java.util.Locale;
import java.util.SplittableRandom;

/** The operation mixes of {@code pdpm bench kv}: YCSB's core workloads A, B, C and a write-only one. */
public enum Workload {
    /** YCSB A, update heavy: 50 % updates. */
    A(0.5),
    /** YCSB B, read mostly: 5 % updates. */
    B(0.05),
    /** YCSB C, read only. */
    C(0.0),
    /** Every operation an update: what a state backend does between checkpoints in a write-heavy job. */
    WRITE_ONLY(1.0);

    private final double updateFraction;

    Workload(double updateFraction) {
        this.updateFraction = updateFraction;
    }

    /** The share of operations that are updates (PUTs); the rest are reads (GETs). */
    public double updateFraction() {
        return updateFraction;
    }

    /** Whether the next operation is an update, drawn from {@code random}. */
    public boolean nextIsUpdate(SplittableRandom random) {
        return random.nextDouble() < updateFraction;
    }

    /** {@code a}, {@code b}, {@code c} or {@code write-only}: the name on the command line and in the output. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The workload named {@code label}, in any case. */
    public static Workload of(String label) {
        for (Workload w : values()) {
            if (w.label().equalsIgnoreCase(label)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload '" + label + "' is none of a, b, c, write-only");
    }
}
