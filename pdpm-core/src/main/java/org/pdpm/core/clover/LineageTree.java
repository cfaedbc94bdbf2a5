package org.pdpm.core.clover;

import org.pdpm.core.api.Lineages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongFunction;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.clover.MetadataService.EpochRange;
import org.pdpm.core.clover.MetadataService.LineageInfo;
import org.pdpm.core.api.Lineages.Pin;

/**
 * The metadata server's lineages and pins: which lineage forked from where, which are live, who
 * pins what, and so which views a collection must keep alive. It checks requests, and changes
 * only when the server applies what it has logged; the server's lock guards it.
 */
final class LineageTree {

    /** A lineage: where it forked (parent -1 for a root) and whether it still lives. */
    private static final class Node {
        final int parent;
        final long forkEpoch;
        boolean live = true;

        Node(int parent, long forkEpoch) {
            this.parent = parent;
            this.forkEpoch = forkEpoch;
        }
    }

    private record Point(int lineage, long epoch) {}

    private final String poolName;
    private final Map<Integer, Node> lineages = new HashMap<>();
    private final TreeMap<Point, Set<String>> pins = new TreeMap<>(
            Comparator.comparingInt(Point::lineage).thenComparingLong(Point::epoch));
    private int nextLineage = MetadataService.ROOT_LINEAGE + 1;

    LineageTree(String poolName) {
        this.poolName = poolName;
        lineages.put(MetadataService.ROOT_LINEAGE, new Node(-1, 0));
    }

    // ---------------------------------------------------------------- checks, before logging

    /** The id the next lineage gets. */
    int nextId() {
        if (nextLineage == Integer.MAX_VALUE) {
            throw new SpaceExhaustedException("the pool has created " + Integer.MAX_VALUE + " lineages, its most");
        }
        return nextLineage;
    }

    void checkFork(int lineage, long epoch) {
        existing(lineage);
        if (!pins.containsKey(new Point(lineage, epoch))) {
            throw new IllegalStateException("cannot fork lineage " + lineage + " at epoch " + epoch
                    + ": that point is not pinned, so what it sees may already be collected");
        }
    }

    /** False when the lineage is dropped already (nothing to do). */
    boolean checkDrop(int lineage) {
        return existing(lineage).live;
    }

    /** False when {@code owner} pins the point already (nothing to do). */
    boolean checkPin(int lineage, long epoch, String owner) {
        ownerBytes(owner);
        Node l = existing(lineage);
        Set<String> owners = pins.get(new Point(lineage, epoch));
        if (owners != null && owners.contains(owner)) {
            return false;
        }
        if (!l.live && owners == null) {
            throw new IllegalStateException("lineage " + lineage + " was dropped: only a point already pinned can be"
                    + " pinned again, since what epoch " + epoch + " saw may be collected");
        }
        return true;
    }

    /** False when {@code owner} does not pin the point (nothing to do). */
    boolean checkUnpin(int lineage, long epoch, String owner) {
        ownerBytes(owner);
        Set<String> owners = pins.get(new Point(lineage, epoch));
        return owners != null && owners.contains(owner);
    }

    // ---------------------------------------------------------------- changes, once logged (and on replay)

    void addLineage(int id, int parent, long forkEpoch) {
        lineages.put(id, new Node(parent, forkEpoch));
        nextLineage = Math.max(nextLineage, id + 1);
    }

    void drop(int lineage) {
        Node l = lineages.get(lineage);
        if (l != null) {
            l.live = false;
        }
    }

    void pin(int lineage, long epoch, String owner) {
        pins.computeIfAbsent(new Point(lineage, epoch), p -> new LinkedHashSet<>()).add(owner);
    }

    void unpin(int lineage, long epoch, String owner) {
        Point point = new Point(lineage, epoch);
        Set<String> owners = pins.get(point);
        if (owners != null && owners.remove(owner) && owners.isEmpty()) {
            pins.remove(point);
        }
    }

    // ---------------------------------------------------------------- reading

    LineageInfo info(int lineage) {
        return new LineageInfo(lineage, existing(lineage).live, ranges(lineage, Long.MAX_VALUE));
    }

    List<Pin> pins() {
        List<Pin> out = new ArrayList<>();
        pins.forEach((point, owners) -> owners.forEach(o -> out.add(new Pin(point.lineage(), point.epoch(), o))));
        return out;
    }

    /** What every live lineage and every pin sees: what a collection keeps. */
    List<Visibility> views() {
        List<Visibility> v = new ArrayList<>();
        lineages.forEach((id, l) -> {
            if (l.live) {
                v.add(new Visibility(ranges(id, Long.MAX_VALUE)));
            }
        });
        pins.keySet().forEach(p -> v.add(new Visibility(ranges(p.lineage(), p.epoch()))));
        return List.copyOf(v);
    }

    /** The tree as log records, parents before children, for a compaction. */
    void snapshot(List<LongFunction<byte[]>> records) {
        lineages.keySet().stream().sorted().forEach(id -> {
            Node l = lineages.get(id);
            if (id != MetadataService.ROOT_LINEAGE) {
                records.add(seq -> LogRecordLayout.lineage(seq, id, l.parent, l.forkEpoch));
            }
            if (!l.live) {
                records.add(seq -> LogRecordLayout.drop(seq, id));
            }
        });
        pins.forEach((point, owners) -> owners.forEach(o -> records.add(seq -> LogRecordLayout.pin(seq,
                LogRecordLayout.PIN, point.lineage(), point.epoch(), o.getBytes(StandardCharsets.UTF_8)))));
    }

    /** An owner as the log stores it; a clear error for one that is empty or too long. */
    static byte[] ownerBytes(String owner) {
        if (owner == null || owner.isEmpty()) {
            throw new IllegalArgumentException("a pin needs an owner");
        }
        byte[] b = owner.getBytes(StandardCharsets.UTF_8);
        if (b.length > Lineages.MAX_PIN_OWNER_BYTES) {
            throw new IllegalArgumentException("pin owner of " + b.length + " UTF-8 bytes exceeds MAX_PIN_OWNER_BYTES="
                    + Lineages.MAX_PIN_OWNER_BYTES);
        }
        return b;
    }

    private Node existing(int lineage) {
        Node l = lineages.get(lineage);
        if (l == null) {
            throw new IllegalArgumentException("there is no lineage " + lineage + " in pool " + poolName);
        }
        return l;
    }

    /** What {@code (lineage, epoch)} sees: its own epochs up to there, then each ancestor's up to the fork. */
    private List<EpochRange> ranges(int lineage, long epoch) {
        List<EpochRange> out = new ArrayList<>();
        out.add(new EpochRange(lineage, epoch));
        for (Node l = lineages.get(lineage); l.parent >= 0; l = lineages.get(l.parent)) {
            out.add(new EpochRange(l.parent, l.forkEpoch));
        }
        return out;
    }
}
