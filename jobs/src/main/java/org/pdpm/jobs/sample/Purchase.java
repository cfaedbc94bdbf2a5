package org.pdpm.jobs.sample;

/**
 * One purchase, the sample job's input event. A Flink POJO (public fields, no-argument
 * constructor) so that it crosses the network without Kryo.
 */
public final class Purchase {

    /** Position in the generated sequence; the source checkpoints how far it got. */
    public long index;
    public long user;
    public int item;
    public long amount;
    public long timestampMillis;

    public Purchase() {}

    Purchase(long index, long user, int item, long amount, long timestampMillis) {
        this.index = index;
        this.user = user;
        this.item = item;
        this.amount = amount;
        this.timestampMillis = timestampMillis;
    }

    @Override
    public String toString() {
        return "Purchase{index=" + index + ", user=" + user + ", item=" + item + ", amount=" + amount
                + ", timestampMillis=" + timestampMillis + '}';
    }
}
