package org.pdpm.rdma.api;

import java.util.concurrent.atomic.LongAdder;

/**
 * Round trips, verbs and payload bytes. Every connection keeps one; a key-value operation keeps
 * its own and passes it to {@link RoundTrip}, so that its round trips are counted across
 * connections the way DESIGN §2 defines them: verbs awaited together count once.
 * Thread-safe, so one counter may also aggregate many threads' operations.
 */
public final class TrafficCounter {

    private final LongAdder roundTrips = new LongAdder();
    private final LongAdder verbs = new LongAdder();
    private final LongAdder bytes = new LongAdder();

    public void addRoundTrips(long n) {
        roundTrips.add(n);
    }

    public void addBatch(Batch batch) {
        verbs.add(batch.size());
        bytes.add(batch.payloadBytes());
    }

    /** Adds everything {@code other} counted, e.g. one operation's traffic to a store's total. */
    public void add(TrafficCounter other) {
        roundTrips.add(other.roundTrips());
        verbs.add(other.verbs());
        bytes.add(other.bytes());
    }

    public long roundTrips() {
        return roundTrips.sum();
    }

    public long verbs() {
        return verbs.sum();
    }

    public long bytes() {
        return bytes.sum();
    }

    public Snapshot snapshot() {
        return new Snapshot(roundTrips(), verbs(), bytes());
    }

    public void reset() {
        roundTrips.reset();
        verbs.reset();
        bytes.reset();
    }

    /** The counters at one moment; {@link #minus} gives what happened between two snapshots. */
    public record Snapshot(long roundTrips, long verbs, long bytes) {
        public Snapshot minus(Snapshot earlier) {
            return new Snapshot(roundTrips - earlier.roundTrips, verbs - earlier.verbs, bytes - earlier.bytes);
        }
    }

    @Override
    public String toString() {
        return "TrafficCounter[roundTrips=" + roundTrips() + ", verbs=" + verbs() + ", bytes=" + bytes() + "]";
    }
}
