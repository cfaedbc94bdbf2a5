package org.pdpm.core.direct;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.RoundTrip;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * Which memory nodes are out of service, decided without a server: every node keeps one
 * membership word {@code version << 32 | out-mask} at {@link DirectLayout#MEMBERSHIP_OFFSET}, and a
 * view is <em>committed</em> once a majority of all the pool's nodes hold it.
 *
 * <ul>
 *   <li><b>Read</b>: read the word on every node that answers (a majority must); the newest version
 *       held by a majority is the view. When the newest version has no majority yet (a change in
 *       flight, or two rival changes), help: CAS every answering node that is still at an older
 *       version to one candidate of the newest version (the smallest word, so all helpers pick the
 *       same), then read again.</li>
 *   <li><b>Change</b>: from a committed view v, CAS {@code v -> v'} (version + 1) on every node; the
 *       change is committed when a majority holds v'. A node's word only ever moves to a higher
 *       version, and a node holding a version is never moved to another word of the same version,
 *       so two different views of one version can never both reach a majority: no split brain.</li>
 * </ul>
 * The caller (the store) keeps its view fresh within the pool's membership lease and waits one
 * lease after a change before acting on it, so no client still serves from a node taken out.
 */
final class Membership {

    private static final int MAX_ATTEMPTS = 32;

    private final PoolNodes nodes;
    private final int nodeCount;
    private final TrafficCounter upkeep;

    Membership(PoolNodes nodes, int nodeCount, TrafficCounter upkeep) {
        this.nodes = nodes;
        this.nodeCount = nodeCount;
        this.upkeep = upkeep;
    }

    /** A membership word: version and the bit set of nodes out of service. */
    record View(long word) {
        static View initial() {
            return new View(1L << 32);
        }

        int version() {
            return (int) (word >>> 32);
        }

        int outMask() {
            return (int) word;
        }

        boolean isOut(int node) {
            return (outMask() & (1 << node)) != 0;
        }

        View without(int node) {
            return new View(((long) (version() + 1) << 32) | Integer.toUnsignedLong(outMask() | (1 << node)));
        }

        List<Integer> outNodes() {
            List<Integer> out = new ArrayList<>();
            for (int n = 0; n < 32; n++) {
                if (isOut(n)) {
                    out.add(n);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "View[version=" + version() + ", out=" + outNodes() + "]";
        }
    }

    int majority() {
        return nodeCount / 2 + 1;
    }

    /** The committed view, helping an unfinished change along; unavailable without a majority. */
    View read() {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Map<Integer, Long> words = readWords();
            if (words.size() < majority()) {
                throw new StoreUnavailableException("the membership of this pDPM-Direct pool needs a majority ("
                        + majority() + " of " + nodeCount + " memory nodes) to answer; only " + words.size() + " did");
            }
            int top = words.values().stream().mapToInt(w -> (int) (w >>> 32)).max().orElseThrow();
            Map<Long, Integer> counts = new HashMap<>();
            long candidate = Long.MAX_VALUE;
            for (long w : words.values()) {
                if ((int) (w >>> 32) == top) {
                    counts.merge(w, 1, Integer::sum);
                    candidate = Math.min(candidate, w);
                }
            }
            for (Map.Entry<Long, Integer> e : counts.entrySet()) {
                if (e.getValue() >= majority()) {
                    return new View(e.getKey());
                }
            }
            Map<Integer, Long> behind = new HashMap<>();
            words.forEach((n, w) -> {
                if ((int) (w >>> 32) < top) {
                    behind.put(n, w);
                }
            });
            casWords(behind, candidate);
        }
        throw new StoreUnavailableException("the membership of this pDPM-Direct pool did not settle after " + MAX_ATTEMPTS
                + " attempts: rival changes and too few memory nodes to decide between them");
    }

    /** Takes {@code node} out of service; returns the committed view that has it out. */
    View takeOut(int node) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            View current = read();
            if (current.isOut(node)) {
                return current;
            }
            View next = current.without(node);
            Map<Integer, Long> expected = new HashMap<>();
            for (int n = 0; n < nodeCount; n++) {
                expected.put(n, current.word());
            }
            if (casWords(expected, next.word()) >= majority()) {
                return next;
            }
        }
        throw new StoreUnavailableException("memory node " + nodes.address(node) + " could not be taken out of service:"
                + " a majority of the " + nodeCount + " memory nodes did not agree");
    }

    private Map<Integer, Long> readWords() {
        RoundTrip rt = RoundTrip.on(upkeep);
        List<Integer> asked = new ArrayList<>();
        for (int n = 0; n < nodeCount; n++) {
            if (!nodes.isConnected(n)) {
                continue;
            }
            try {
                Batch b = new Batch(1);
                b.read(nodes.region(n), DirectLayout.MEMBERSHIP_OFFSET, 8);
                rt.post(nodes.connection(n), b);
                asked.add(n);
            } catch (FabricException unreachable) {
                // not connected any more: it does not answer
            }
        }
        Map<Integer, Long> words = new HashMap<>();
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        for (int i = 0; i < asked.size(); i++) {
            if (outcomes.get(i).succeeded()) {
                words.put(asked.get(i), (long) DirectLayout.LONG.get(outcomes.get(i).result().bytes(0), 0));
            }
        }
        return words;
    }

    /** CASes each node from its expected word to {@code desired}; returns how many nodes now hold it. */
    private int casWords(Map<Integer, Long> expected, long desired) {
        RoundTrip rt = RoundTrip.on(upkeep);
        List<Integer> asked = new ArrayList<>();
        for (Map.Entry<Integer, Long> e : expected.entrySet()) {
            int n = e.getKey();
            if (!nodes.isConnected(n)) {
                continue;
            }
            try {
                Batch b = new Batch(2);
                b.compareAndSwap(nodes.region(n), DirectLayout.MEMBERSHIP_OFFSET, e.getValue(), desired);
                b.flush(nodes.region(n), DirectLayout.MEMBERSHIP_OFFSET, 8);
                rt.post(nodes.connection(n), b);
                asked.add(n);
            } catch (FabricException unreachable) {
                // not connected any more
            }
        }
        int holding = 0;
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        for (int i = 0; i < asked.size(); i++) {
            RoundTrip.Outcome o = outcomes.get(i);
            if (o.succeeded() && (o.result().swapped(0) || o.result().oldValue(0) == desired)) {
                holding++;
            }
        }
        return holding;
    }
}
