package org.pdpm.core.clover;

import java.util.List;
import org.pdpm.core.api.Lineages;
import org.pdpm.core.pool.PoolLayout;

/**
 * What a Clover client asks of the metadata server; every call is one round trip (an RPC), never
 * on the common path of a GET or PUT with a warm cache. The server may run in this JVM or behind
 * an RPC transport.
 *
 * <p>Lineages and epochs: every version records the lineage and epoch it was written in. A reader
 * of a lineage sees, per key, the newest version its {@link LineageInfo#sees() ranges} admit. The
 * server keeps the lineage tree and the pins durably, and collects only versions no live lineage
 * and no pin can see. The root lineage {@link #ROOT_LINEAGE} exists in every pool.
 */
public interface MetadataService extends Lineages {

    /** The lineage every pool starts with; stores opened without naming one write in it. */
    int ROOT_LINEAGE = 0;

    /** The pool's layout, learnt once when a client starts. */
    PoolLayout pool();

    /** A fresh client id, durable so that no two clients ever share one. */
    long registerClient();

    /** Where the key's chain starts and the newest version the server knows of, or null. */
    KeyLocation lookup(byte[] key);

    /**
     * Creates {@code key} with its first version at {@code head}, durably. When the key exists
     * already, nothing changes and the existing location is returned with {@code created} false,
     * unless its chain starts at {@code head} (it was created with this very version before).
     */
    KeyLocation create(byte[] key, long head);

    /** Most keys one {@link #createAll} takes. */
    int MAX_CREATE_ALL = 256;

    /** Most key bytes, all keys together, one {@link #createAll} takes. */
    int MAX_CREATE_ALL_KEY_BYTES = 1 << 20;

    /**
     * {@link #create} for each key with its head, the new keys made durable together (one log
     * append): the locations in the keys' order. Each key is created or found on its own, as by
     * {@code create}; a key given twice is created once and found the second time. Fails with an
     * {@link IllegalArgumentException} beyond {@link #MAX_CREATE_ALL} keys or
     * {@link #MAX_CREATE_ALL_KEY_BYTES}, and with a {@code SpaceExhaustedException}, creating none,
     * when the pool cannot take all new keys. A key found, but removed before it could be followed,
     * is created again as by {@code create}, which may fail the same way after the new keys were
     * created; asked again, {@code create} reports those as created with their heads.
     */
    List<KeyLocation> createAll(List<byte[]> keys, long[] heads);

    /** A block of data space for {@code clientId}, durably granted to it and to nobody else. */
    BlockGrant grantBlock(long clientId);

    /**
     * The client has stopped allocating in {@code block} after {@code usedBytes}, and every version
     * it wrote there is linked: once they are all collected, the block can be reclaimed. Sent in the
     * background.
     */
    void sealBlock(long clientId, BlockGrant block, int usedBytes);

    /** Up to {@code limit} keys starting with {@code prefix}, in key order, after {@code after} (null = from the start). */
    List<KeyLocation> scan(byte[] prefix, byte[] after, int limit);

    /**
     * {@code superseded} (or nothing, {@code Pointer.NULL}) was followed in {@code key}'s chain by
     * {@code tail}, which sits at chain position {@code tailSeq}: the server moves its hint forward
     * and collects what no lineage can see any more. Sent in the background, in any order.
     */
    void retire(byte[] key, long superseded, long tail, long tailSeq);

    /** The lineage's ranges, or an {@link IllegalArgumentException} when there is no such lineage. */
    LineageInfo lineage(int lineage);

    /** Which memory nodes the pool has taken out of service, as the server decided. */
    Membership membership();

    /**
     * A client could not reach {@code node}. The server checks it itself: when it cannot reach it
     * either, it takes it out of service for good (durably) and its group goes on with its other
     * replicas; when it can, nothing changes and the client should connect again. A node is never
     * taken out while it is its group's last one in service. Returns the membership after the check.
     */
    Membership reportUnreachable(int node);

    /**
     * Nodes out of service; {@code version} counts the changes, so a client can tell a newer view
     * from its own. A node out of service is never read or written again: it may hold stale data.
     */
    record Membership(long version, List<Integer> outNodes) {
        public Membership {
            outNodes = List.copyOf(outNodes);
        }

        public boolean isOut(int node) {
            return outNodes.contains(node);
        }
    }

    /**
     * Where a key's chain is known to start ({@code head}, the oldest version some lineage or pin
     * may still see) and to reach ({@code tail}).
     */
    record KeyLocation(byte[] key, long head, long tail, boolean created) {}

    /** Data space: {@code bytes} at {@code offset} on every node of {@code group}. */
    record BlockGrant(int group, long offset, int bytes) {}

    /** Versions of {@code lineage} up to {@code maxEpoch} (inclusive). */
    record EpochRange(int lineage, long maxEpoch) {}

    /**
     * A lineage: what its readers see (its own versions of every epoch, then its ancestors' up to
     * where each forked), and whether it is still live.
     */
    record LineageInfo(int id, boolean live, List<EpochRange> sees) {
        public LineageInfo {
            sees = List.copyOf(sees);
        }
    }

}
