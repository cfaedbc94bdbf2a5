package org.pdpm.jobs.sample;

import java.util.Objects;

/**
 * One row of the sample job's output: either a user's final totals (value state, map state and an
 * end-of-input timer) or one user's tumbling event-time window. The sink upserts rows by
 * {@link #key()}, so a row replayed after a failover overwrites itself.
 */
public final class ResultRow {

    public static final int USER_TOTAL = 0;
    public static final int WINDOW = 1;

    /** {@link #USER_TOTAL} or {@link #WINDOW}. */
    public int kind;
    public long user;
    /** The window's start (event time), or -1 for a user total. */
    public long windowStart;
    public long count;
    public long sum;
    /** Distinct items the user bought (user totals only). */
    public long distinctItems;
    /** {@link PurchaseGenerator#itemDigestTerm} summed over the user's items (user totals only). */
    public long itemDigest;

    public ResultRow() {}

    static ResultRow userTotal(long user, long count, long sum, long distinctItems, long itemDigest) {
        ResultRow row = new ResultRow();
        row.kind = USER_TOTAL;
        row.user = user;
        row.windowStart = -1;
        row.count = count;
        row.sum = sum;
        row.distinctItems = distinctItems;
        row.itemDigest = itemDigest;
        return row;
    }

    static ResultRow window(long user, long windowStart, long count, long sum) {
        ResultRow row = new ResultRow();
        row.kind = WINDOW;
        row.user = user;
        row.windowStart = windowStart;
        row.count = count;
        row.sum = sum;
        return row;
    }

    public Key key() {
        return new Key(kind, user, windowStart);
    }

    /** The upsert key: what a row is about. */
    public record Key(int kind, long user, long windowStart) {}

    @Override
    public boolean equals(Object o) {
        return o instanceof ResultRow r && kind == r.kind && user == r.user && windowStart == r.windowStart
                && count == r.count && sum == r.sum && distinctItems == r.distinctItems && itemDigest == r.itemDigest;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, user, windowStart, count, sum, distinctItems, itemDigest);
    }

    @Override
    public String toString() {
        return kind == USER_TOTAL
                ? "user " + user + " total{count=" + count + ", sum=" + sum + ", distinctItems=" + distinctItems
                        + ", itemDigest=" + Long.toHexString(itemDigest) + '}'
                : "user " + user + " window@" + windowStart + "{count=" + count + ", sum=" + sum + '}';
    }
}
