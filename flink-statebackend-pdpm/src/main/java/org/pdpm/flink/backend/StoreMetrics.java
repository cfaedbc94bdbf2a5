package org.pdpm.flink.backend;

import java.util.function.ToLongFunction;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.pdpm.core.api.KvStats;
import org.pdpm.core.clover.CloverStore;

/**
 * The store's own figures in the operator's metric group, under {@code pdpm}: operations, round
 * trips per get and put, verbs, bytes moved, the client cache's hit ratio, the read cache's and the lineages in use,
 * summed over the backend's store clients.
 */
final class StoreMetrics {

    static final String GROUP = "pdpm";

    private StoreMetrics() {
    }

    static void register(MetricGroup operator, KeyGroupLineages lineages) {
        MetricGroup g = operator.addGroup(GROUP);
        counter(g, "gets", lineages, KvStats::gets);
        counter(g, "puts", lineages, KvStats::puts);
        counter(g, "deletes", lineages, KvStats::deletes);
        counter(g, "verbs", lineages, KvStats::verbs);
        counter(g, "bytes", lineages, KvStats::bytes);
        ratio(g, "roundTripsPerGet", lineages, KvStats::getRoundTrips, KvStats::gets);
        ratio(g, "roundTripsPerPut", lineages, KvStats::putRoundTrips, KvStats::puts);
        g.gauge("cacheHitRatio", (Gauge<Double>) () -> {
            long ops = 0;
            long misses = 0;
            for (KeyGroupLineages.Segment s : lineages.segments()) {
                if (!(s.store().store() instanceof CloverStore clover)) {
                    return Double.NaN; // only Clover caches where keys live; the others compute or ask every time
                }
                KvStats st = clover.stats();
                ops += st.gets() + st.puts() + st.deletes();
                misses += clover.metadataLookups();
            }
            return ops == 0 ? Double.NaN : Math.max(0, 1.0 - (double) misses / ops);
        });
        g.gauge("readCacheHitRatio", (Gauge<Double>) () -> {
            long hits = 0;
            long lookups = 0;
            for (KeyGroupLineages.Segment s : lineages.segments()) {
                long[] hm = s.store().cacheHitsAndMisses();
                hits += hm[0];
                lookups += hm[0] + hm[1];
            }
            return lookups == 0 ? Double.NaN : (double) hits / lookups;
        });
        g.gauge("lineages", (Gauge<Integer>) () -> lineages.segments().size());
    }

    private static void counter(MetricGroup g, String name, KeyGroupLineages lineages, ToLongFunction<KvStats> f) {
        g.gauge(name, (Gauge<Long>) () -> sum(lineages, f));
    }

    private static void ratio(MetricGroup g, String name, KeyGroupLineages lineages, ToLongFunction<KvStats> num,
                              ToLongFunction<KvStats> den) {
        g.gauge(name, (Gauge<Double>) () -> {
            long d = sum(lineages, den);
            return d == 0 ? Double.NaN : (double) sum(lineages, num) / d;
        });
    }

    private static long sum(KeyGroupLineages lineages, ToLongFunction<KvStats> f) {
        long total = 0;
        for (KeyGroupLineages.Segment s : lineages.segments()) {
            total += f.applyAsLong(s.store().stats());
        }
        return total;
    }
}
