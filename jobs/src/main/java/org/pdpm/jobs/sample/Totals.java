package org.pdpm.jobs.sample;

/** A count and a sum: the per-user running total and the per-window accumulator (a Flink POJO). */
public final class Totals {

    public long count;
    public long sum;

    public Totals() {}

    void add(long amount) {
        count++;
        sum += amount;
    }
}
