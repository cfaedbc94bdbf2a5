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

    public KvStats minus(KvStats earlier) {
        return new KvStats(gets - earlier.gets, puts - earlier.puts, deletes - earlier.deletes,
                getRoundTrips - earlier.getRoundTrips, putRoundTrips - earlier.putRoundTrips,
                deleteRoundTrips - earlier.deleteRoundTrips, verbs - earlier.verbs, bytes - earlier.bytes);
    }
}
