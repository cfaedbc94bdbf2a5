package org.pdpm.jobs.sample;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The upsert tables the sample job's sink writes, one per run, in this JVM: an idempotent sink
 * keyed by {@link ResultRow.Key}, so what a failover replays overwrites itself and the final
 * content is exactly-once iff the state was.
 */
final class ResultTables {

    private static final ConcurrentMap<String, ConcurrentMap<ResultRow.Key, ResultRow>> TABLES =
            new ConcurrentHashMap<>();

    private ResultTables() {}

    static void create(String runId) {
        if (TABLES.putIfAbsent(runId, new ConcurrentHashMap<>()) != null) {
            throw new IllegalStateException("runId=" + runId + " already has a table");
        }
    }

    static ConcurrentMap<ResultRow.Key, ResultRow> table(String runId) {
        ConcurrentMap<ResultRow.Key, ResultRow> table = TABLES.get(runId);
        if (table == null) {
            throw new IllegalStateException("runId=" + runId + " has no result table in this JVM");
        }
        return table;
    }

    static Map<ResultRow.Key, ResultRow> drop(String runId) {
        Map<ResultRow.Key, ResultRow> table = TABLES.remove(runId);
        return table == null ? Map.of() : table;
    }
}
