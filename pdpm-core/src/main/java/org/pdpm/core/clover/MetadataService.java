package org.pdpm.core.clover;

import java.util.List;
import org.pdpm.core.pool.PoolLayout;

/**
 * What a Clover client asks of the metadata server; every call is one round trip (an RPC), never
 * on the common path of a GET or PUT with a warm cache. The server may run in this JVM or behind
 * an RPC transport.
 */
public interface MetadataService {

    /** The pool's layout, learnt once when a client starts. */
    PoolLayout pool();

    /** A fresh client id, durable so that no two clients ever share one. */
    long registerClient();

    /** The key's newest version the server knows of (clients follow the chain from there), or null. */
    KeyLocation lookup(byte[] key);

    /**
     * Creates {@code key} with its first version at {@code head}, durably. When the key exists
     * already, nothing changes and the existing location is returned with {@code created} false.
     */
    KeyLocation create(byte[] key, long head);

    /** A block of data space for {@code clientId}, durably granted to it and to nobody else. */
    BlockGrant grantBlock(long clientId);

    /**
     * The client has stopped allocating in {@code block} after {@code usedBytes}: once every
     * version in those bytes has been retired, the block can be reclaimed. Sent in the background.
     */
    void sealBlock(long clientId, BlockGrant block, int usedBytes);

    /** Up to {@code limit} keys starting with {@code prefix}, in key order, after {@code after} (null = from the start). */
    List<KeyLocation> scan(byte[] prefix, byte[] after, int limit);

    /**
     * {@code superseded} (or nothing, {@code Pointer.NULL}) was followed in {@code key}'s chain by
     * {@code tail}, which sits at chain position {@code tailSeq}: the server moves its shortcut
     * forward and counts the superseded version's space as garbage. Sent in the background, in any
     * order.
     */
    void retire(byte[] key, long superseded, long tail, long tailSeq);

    /** Where a key's chain is known to reach. */
    record KeyLocation(byte[] key, long tail, boolean created) {}

    /** Data space: {@code bytes} at {@code offset} on every node of {@code group}. */
    record BlockGrant(int group, long offset, int bytes) {}
}
