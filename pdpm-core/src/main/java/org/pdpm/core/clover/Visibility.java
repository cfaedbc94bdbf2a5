package org.pdpm.core.clover;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which versions a reader admits: per lineage, the newest epoch it sees. A reader of a lineage
 * sees all of its own epochs (or up to a pinned one) and its ancestors' up to where each forked;
 * of a key's chain it reads the newest version it admits.
 */
final class Visibility {

    private final Map<Integer, Long> maxEpochByLineage;

    Visibility(List<MetadataService.EpochRange> ranges) {
        this.maxEpochByLineage = new HashMap<>(ranges.size() * 2);
        for (MetadataService.EpochRange r : ranges) {
            maxEpochByLineage.merge(r.lineage(), r.maxEpoch(), Math::max);
        }
    }

    boolean sees(int lineage, long epoch) {
        Long max = maxEpochByLineage.get(lineage);
        return max != null && epoch <= max;
    }

    @Override
    public String toString() {
        return maxEpochByLineage.toString();
    }
}
