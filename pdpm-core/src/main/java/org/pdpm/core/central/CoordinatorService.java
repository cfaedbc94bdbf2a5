package org.pdpm.core.central;

import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;

/**
 * What a pDPM-Central client asks the coordinator: the {@link Coordinator} itself in one JVM, or a
 * {@code RemoteCoordinator} over TCP. Every answer carries the coordinator's {@link Cost} of that
 * request, the verbs it posted to the memory nodes and the round trips it waited for, so the client
 * reports round trips per operation as DESIGN §2 counts them: its RPC is one, plus the
 * coordinator's.
 */
public interface CoordinatorService {

    /** Most entries one {@link #scan} page returns; a client pages through longer ranges. */
    int MAX_SCAN_LIMIT = 256;

    /** The coordinator's work on the memory nodes for one request. */
    record Cost(int roundTrips, long verbs, long bytes) {
        public static final Cost NONE = new Cost(0, 0, 0);
    }

    /** The pool the coordinator serves and its bounds. */
    record Info(UUID poolId, int nodeCount, int replication, KvLimits limits) {}

    /** A GET's answer: the value read from a memory node (null when the key is absent). */
    record Read(byte[] value, Cost cost) {}

    /** A conditional PUT's answer: whether it wrote (false: the key already held a value). */
    record Written(boolean written, Cost cost) {}

    /** Entries in key order after the page's start; {@code more} is false once the range is exhausted. */
    record Page(List<KvEntry> entries, boolean more, Cost cost) {
        public Page {
            entries = List.copyOf(entries);
            Objects.requireNonNull(cost, "cost");
        }
    }

    /** The membership: nodes taken out of service for good, and the version of that decision. */
    record Membership(long version, List<Integer> outNodes) {
        public Membership {
            outNodes = List.copyOf(outNodes);
        }
    }

    Info info();

    Read get(byte[] key);

    Cost put(byte[] key, byte[] value);

    Cost delete(byte[] key);

    /** Writes {@code value} only when {@code key} is absent, under the key's lock: linearizable. */
    Written putIfAbsent(byte[] key, byte[] value);

    /**
     * Up to {@code limit} entries (1..{@link #MAX_SCAN_LIMIT}) whose keys start with {@code prefix}
     * and sort after {@code after} (null: from the range's start), in unsigned key order.
     */
    Page scan(byte[] prefix, byte[] after, int limit);

    Membership membership();
}
