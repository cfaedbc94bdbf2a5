package org.pdpm.flink.backend;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.pdpm.flink.pool.StatePool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which lineage holds each of a backend's key groups. A fresh backend has one lineage for its whole
 * range; a restored one has a lineage forked from each checkpointed lineage its range overlaps
 * (after rescaling, several), each with its own store client.
 */
final class KeyGroupLineages implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KeyGroupLineages.class);

    /** Key groups {@code range} live in {@code lineage}; their keys start with {@code root}. */
    record Segment(KeyGroupRange range, int root, int lineage, WriteBehindStore store) {
        long epoch() {
            return store.epoch();
        }
    }

    private final KeyGroupRange range;
    private final Segment[] byGroup;
    private final List<Segment> segments;

    KeyGroupLineages(KeyGroupRange range, List<Segment> segments) {
        this.range = range;
        this.segments = List.copyOf(segments);
        this.byGroup = new Segment[range.getNumberOfKeyGroups()];
        for (Segment s : segments) {
            for (int g : s.range()) {
                if (!range.contains(g)) {
                    throw new IllegalArgumentException("segment " + s.range() + " is outside " + range);
                }
                if (byGroup[g - range.getStartKeyGroup()] != null) {
                    throw new IllegalArgumentException("key group " + g + " is in two lineages");
                }
                byGroup[g - range.getStartKeyGroup()] = s;
            }
        }
        for (int g : range) {
            if (byGroup[g - range.getStartKeyGroup()] == null) {
                throw new IllegalArgumentException("key group " + g + " is in no lineage");
            }
        }
    }

    Segment of(int keyGroup) {
        int i = keyGroup - range.getStartKeyGroup();
        if (i < 0 || i >= byGroup.length) {
            throw new IllegalArgumentException("key group " + keyGroup + " is not in this backend's range " + range);
        }
        return byGroup[i];
    }

    List<Segment> segments() {
        return segments;
    }

    /** The key groups of {@code range} that no segment of {@code covered} holds, as ranges. */
    static List<KeyGroupRange> gaps(KeyGroupRange range, List<Segment> covered) {
        boolean[] has = new boolean[range.getNumberOfKeyGroups()];
        for (Segment s : covered) {
            for (int g : s.range()) {
                has[g - range.getStartKeyGroup()] = true;
            }
        }
        List<KeyGroupRange> gaps = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= has.length; i++) {
            boolean missing = i < has.length && !has[i];
            if (missing && start < 0) {
                start = i;
            } else if (!missing && start >= 0) {
                gaps.add(new KeyGroupRange(range.getStartKeyGroup() + start, range.getStartKeyGroup() + i - 1));
                start = -1;
            }
        }
        return gaps;
    }

    /** Closes the store clients; the lineages stay (their pins and a restore may need them). */
    @Override
    public void close() {
        for (Segment s : segments) {
            try {
                s.store().close();
            } catch (RuntimeException e) {
                LOG.warn("closing the store client of lineage {} failed", s.lineage(), e);
            }
        }
    }

    /**
     * Ends the lineages: what they hold beyond their pins becomes garbage, and anything a zombie
     * still writes in them is never seen.
     */
    void drop(StatePool pool) {
        for (Segment s : segments) {
            try {
                pool.dropLineage(s.lineage());
            } catch (RuntimeException e) {
                LOG.warn("dropping lineage {} failed; it stays until an operator drops it", s.lineage(), e);
            }
        }
    }
}
