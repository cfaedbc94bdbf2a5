package org.pdpm.core.api;

/**
 * Counters of a store since it opened. Round trips are counted as DESIGN §2 defines them (verbs
 * awaited together count once; an RPC to a server counts one); they are -1 for stores that do not
 * run on the fabric (RocksDB).
 */
public record KvStats(long gets, long puts, long deletes, long getRoundTrips, long putRoundTrips,
                      long deleteRoundTrips, long verbs, long bytes) {

    public double roundTripsPerGet() {
        return gets == 0 || getRoundTrips < 0 ? Double.NaN : (double) getRoundTrips / gets;
    }

    public double roundTripsPerPut() {
        return puts == 0 || putRoundTrips < 0 ? Double.NaN : (double) putRoundTrips / puts;
    }

    /** What happened between {@code earlier} and this; counters a store does not keep stay -1. */
    public KvStats minus(KvStats earlier) {
        return new KvStats(gets - earlier.gets, puts - earlier.puts, deletes - earlier.deletes,
                diff(getRoundTrips, earlier.getRoundTrips), diff(putRoundTrips, earlier.putRoundTrips),
                diff(deleteRoundTrips, earlier.deleteRoundTrips), diff(verbs, earlier.verbs),
                diff(bytes, earlier.bytes));
    }

    private static long diff(long now, long before) {
        return now < 0 || before < 0 ? -1 : now - before;
    }
}
