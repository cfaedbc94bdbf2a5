package org.pdpm.core.lineage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.pdpm.core.api.ConditionalKvStore;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.Lineages;

/**
 * What {@link StoreLineages} reclaims: the records of dropped lineages nothing sees any more, fork
 * markers nothing uses, and preserved versions no held point sees. Stateless; any process may run
 * it beside the lineages' writers.
 */
final class LineageGarbage {

    /** Records deleted, or keys pruned, per batch. */
    private static final int PAGE = 256;

    private final StoreLineages catalog;
    private final ConditionalKvStore store;

    LineageGarbage(StoreLineages catalog) {
        this.catalog = catalog;
        this.store = catalog.store();
    }

    /** See {@link StoreLineages#collectGarbage}: the catalog is read in the order pins, lineages, markers. */
    StoreLineages.Collected collect() {
        Set<Point> pinnedPoints = new HashSet<>();
        Set<Integer> pinnedLineages = new HashSet<>();
        for (Lineages.Pin p : catalog.pins()) {
            pinnedLineages.add(p.lineage());
            pinnedPoints.add(point(p.lineage(), p.epoch()));
        }
        Map<Integer, LineageRecord> records = new HashMap<>();
        try (KvCursor c = store.scan(LineageKeys.kind(LineageKeys.LINEAGE))) {
            while (c.hasNext()) {
                KvEntry e = c.next();
                int id = LineageKeys.lineageOf(e.key());
                records.put(id, LineageRecord.decode(id, e.value()));
            }
        }
        Set<Integer> needed = new HashSet<>();
        Set<Point> forkedPoints = new HashSet<>();
        for (LineageRecord r : records.values()) {
            if (r.state() == LineageRecord.State.COLLECTED) {
                continue;
            }
            if (!r.root()) {
                forkedPoints.add(point(r.parent(), r.forkEpoch()));
            }
            if (r.state() == LineageRecord.State.LIVE || pinnedLineages.contains(r.id())) {
                for (LineageRecord a = r; a != null && needed.add(a.id()) && !a.root(); ) {
                    a = records.get(a.parent());
                }
            }
        }
        long deleted = 0;
        Set<Integer> purged = new HashSet<>();
        for (LineageRecord r : records.values()) {
            if (r.state() == LineageRecord.State.DROPPED && !needed.contains(r.id())) {
                deleted += purge(r.id());
                store.put(LineageKeys.ofLineage(LineageKeys.LINEAGE, r.id()),
                        r.with(LineageRecord.State.COLLECTED).encode());
                purged.add(r.id());
            }
        }
        Set<Integer> toPrune = new HashSet<>();
        List<byte[]> unusedMarkers = new ArrayList<>();
        try (KvCursor c = store.scan(LineageKeys.kind(LineageKeys.FORK))) {
            while (c.hasNext()) {
                byte[] k = c.next().key();
                int lineage = LineageKeys.lineageOf(k);
                Point p = point(lineage, LineageKeys.epochOf(k));
                if (!purged.contains(lineage) && !pinnedPoints.contains(p) && !forkedPoints.contains(p)) {
                    unusedMarkers.add(k);
                    toPrune.add(lineage);
                }
            }
        }
        for (byte[] k : unusedMarkers) {
            store.delete(k);
            deleted++;
        }
        for (int lineage : toPrune) {
            deleted += prune(lineage);
        }
        return new StoreLineages.Collected(purged, deleted);
    }

    private record Point(int lineage, long epoch) {}

    private static Point point(int lineage, long epoch) {
        return new Point(lineage, epoch);
    }

    /** Deletes every record of {@code lineage}: data, preserved versions, fork markers, writer epoch. */
    private long purge(int lineage) {
        long deleted = 0;
        for (byte[] prefix : List.of(LineageKeys.ofLineage(LineageKeys.DATA, lineage),
                LineageKeys.ofLineage(LineageKeys.VERSION, lineage), LineageKeys.ofLineage(LineageKeys.FORK, lineage))) {
            deleted += deleteAll(prefix);
        }
        store.delete(LineageKeys.ofLineage(LineageKeys.WRITER_EPOCH, lineage));
        return deleted;
    }

    private long deleteAll(byte[] prefix) {
        long deleted = 0;
        while (true) {
            List<byte[]> page = new ArrayList<>();
            try (KvCursor c = store.scan(prefix)) {
                while (c.hasNext() && page.size() < PAGE) {
                    page.add(c.next().key());
                }
            }
            if (page.isEmpty()) {
                return deleted;
            }
            page.forEach(store::delete);
            deleted += page.size();
        }
    }

    /**
     * Deletes the preserved versions of {@code lineage} that no held point sees. A version is current
     * from its epoch until the next version of its key; the last one until the current record's
     * epoch, and while that is not newer (its writer is between preserving and overwriting, or
     * crashed there) the version is kept. Safe beside the lineage's writer: it only ever adds
     * versions, and which points a version serves never grows once a newer one exists.
     */
    long prune(int lineage) {
        long[] held = catalog.heldEpochs(lineage);
        long deleted = 0;
        List<KvEntry> group = new ArrayList<>();
        byte[] groupKey = null;
        List<List<KvEntry>> batch = new ArrayList<>();
        try (KvCursor c = store.scan(LineageKeys.ofLineage(LineageKeys.VERSION, lineage))) {
            while (c.hasNext()) {
                KvEntry e = c.next();
                byte[] userKey = LineageKeys.parseVersion(e.key()).userKey();
                if (groupKey != null && !Arrays.equals(groupKey, userKey)) {
                    batch.add(group);
                    group = new ArrayList<>();
                    if (batch.size() == PAGE) {
                        deleted += pruneKeys(lineage, held, batch);
                        batch.clear();
                    }
                }
                groupKey = userKey;
                group.add(e);
            }
        }
        if (!group.isEmpty()) {
            batch.add(group);
        }
        return deleted + pruneKeys(lineage, held, batch);
    }

    /** Each list holds one key's preserved versions, oldest first; the current records are read in one batch. */
    private long pruneKeys(int lineage, long[] held, List<List<KvEntry>> keys) {
        if (keys.isEmpty()) {
            return 0;
        }
        List<byte[]> dataKeys = new ArrayList<>(keys.size());
        for (List<KvEntry> versions : keys) {
            dataKeys.add(LineageKeys.data(lineage, LineageKeys.parseVersion(versions.get(0).key()).userKey()));
        }
        List<byte[]> current = store.getAll(dataKeys);
        long deleted = 0;
        for (int i = 0; i < keys.size(); i++) {
            List<KvEntry> versions = keys.get(i);
            Long currentEpoch = current.get(i) == null ? null : Version.decode(current.get(i)).epoch();
            for (int j = 0; j < versions.size(); j++) {
                long from = LineageKeys.parseVersion(versions.get(j).key()).epoch();
                long until;
                if (j + 1 < versions.size()) {
                    until = LineageKeys.parseVersion(versions.get(j + 1).key()).epoch();
                } else if (currentEpoch != null && currentEpoch > from) {
                    until = currentEpoch;
                } else {
                    continue;
                }
                if (!seenByAny(held, from, until)) {
                    store.delete(versions.get(j).key());
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /** Whether a held point lies in {@code [from, until)}. */
    static boolean seenByAny(long[] held, long from, long until) {
        int i = Arrays.binarySearch(held, from);
        int first = i >= 0 ? i : -i - 1;
        return first < held.length && held[first] < until;
    }
}
