package org.pdpm.rdma.tcp;

import org.pdpm.rdma.api.FabricLimits;

/**
 * The tcp fabric's frames. Every integer is little-endian. A frame is a 4-byte body length, then
 * the body, whose first byte is the frame type:
 *
 * <pre>
 *  frame    := u32 bodyLength | body                         bodyLength in 1..MAX_BODY_BYTES
 *
 *  HELLO    := u8 1 | u32 MAGIC | u16 VERSION | u16 n | secret[n]           client -> node, first
 *  WELCOME  := u8 2 | u16 n | nodeId[n] | u16 regions | {u32 id | u64 size | u32 rkey}*
 *  REFUSED  := u8 3 | u16 n | reason[n]                      node -> client, then the node closes
 *  BATCH    := u8 4 | u16 count | request*                   client -> node
 *  request  := u8 verb | u32 region | u32 rkey | u64 offset | u32 length | operands
 *     operands: WRITE: bytes[length]; COMPARE_AND_SWAP: u64 expected | u64 desired;
 *               FETCH_AND_ADD: u64 delta; READ, FLUSH: none
 *  DONE     := u8 5 | u8 0 | results                         node -> client, one per BATCH, in order
 *     results, in request order: READ: bytes[length]; atomics: u64 old word; others: none
 *  FAILED   := u8 5 | u8 status | u16 n | reason[n]          status = FabricException.Status ordinal + 1
 * </pre>
 *
 * A node answers every well-formed BATCH with DONE or FAILED and nothing else; a frame it cannot
 * parse (bad length, type, verb or count, truncated) closes the connection before any of the
 * frame's requests is executed. A BATCH with zero requests is the transport's floor round trip.
 */
final class WireLayout {

    static final int MAGIC = 0x4d504450; // "PDPM" read little-endian
    static final short VERSION = 1;

    static final int LENGTH_PREFIX_BYTES = 4;
    static final int REQUEST_HEADER_BYTES = 1 + 4 + 4 + 8 + 4;
    static final int RESULT_HEADER_BYTES = 2;
    static final int MAX_SECRET_BYTES = 1024;
    static final int MAX_REASON_BYTES = 1024;

    /** Largest body: a batch of the most verbs carrying the most bytes, with room for headers. */
    static final int MAX_BODY_BYTES = 3 + FabricLimits.MAX_BATCH_VERBS * (REQUEST_HEADER_BYTES + 16)
            + FabricLimits.MAX_BATCH_BYTES;

    static final byte HELLO = 1;
    static final byte WELCOME = 2;
    static final byte REFUSED = 3;
    static final byte BATCH = 4;
    static final byte COMPLETION = 5;

    static final byte STATUS_OK = 0;

    static {
        if (MAX_BODY_BYTES <= FabricLimits.MAX_BATCH_BYTES || MAX_BODY_BYTES < 0) {
            throw new AssertionError("frame bound must hold the largest batch");
        }
    }

    private WireLayout() {}
}
