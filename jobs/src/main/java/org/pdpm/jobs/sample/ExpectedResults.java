package org.pdpm.jobs.sample;

import java.util.HashMap;
import java.util.Map;

/** The sample job's exact output, computed from its settings by replaying the generator. */
public final class ExpectedResults {

    /** Per-user item counts are kept in one array: the bound on users × items (SampleJobSettings checks it). */
    static final long MAX_USER_ITEM_PAIRS = 1L << 26;

    private ExpectedResults() {}

    public static Map<ResultRow.Key, ResultRow> compute(SampleJobSettings settings) {
        int users = settings.users();
        int items = settings.items();
        PurchaseGenerator generator = settings.generator();
        long[] counts = new long[users];
        long[] sums = new long[users];
        long[] itemCounts = new long[users * items];
        Map<ResultRow.Key, ResultRow> rows = new HashMap<>();
        for (long i = 0; i < settings.events(); i++) {
            Purchase p = generator.at(i);
            int u = (int) p.user;
            counts[u]++;
            sums[u] += p.amount;
            itemCounts[u * items + p.item]++;
            long windowStart = p.timestampMillis - p.timestampMillis % settings.windowMillis();
            ResultRow w = rows.computeIfAbsent(new ResultRow.Key(ResultRow.WINDOW, p.user, windowStart),
                    k -> ResultRow.window(k.user(), k.windowStart(), 0, 0));
            w.count++;
            w.sum += p.amount;
        }
        for (int u = 0; u < users; u++) {
            if (counts[u] == 0) {
                continue;
            }
            long distinct = 0;
            long digest = 0;
            for (int item = 0; item < items; item++) {
                long c = itemCounts[u * items + item];
                if (c > 0) {
                    distinct++;
                    digest += PurchaseGenerator.itemDigestTerm(item, c);
                }
            }
            ResultRow total = ResultRow.userTotal(u, counts[u], sums[u], distinct, digest);
            rows.put(total.key(), total);
        }
        return rows;
    }
}
