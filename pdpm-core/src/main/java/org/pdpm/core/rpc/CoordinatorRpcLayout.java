package org.pdpm.core.rpc;

/**
 * The frames of pDPM-Central's coordinator RPC: the framing, handshake and error scheme of
 * {@link MetadataRpcLayout}, its own magic, version and methods. Every integer is little-endian.
 *
 * <pre>
 *  frame    := u32 bodyLength | body                       bodyLength in 1..MAX_BODY_BYTES
 *                                                          (1..MAX_HELLO_BYTES before WELCOME)
 *  HELLO    := u8 1 | u32 MAGIC | u16 VERSION | u16 n | secret[n]        client -> server, first
 *  WELCOME  := u8 2 | u64 poolIdMsb | u64 poolIdLsb                     the pool this coordinator serves
 *  REFUSED  := u8 3 | u16 n | reason[n]                    server -> client, then the server closes
 *  CALL     := u8 4 | u8 method | arguments                client -> server, one at a time
 *  REPLY    := u8 5 | u8 0 | result                        server -> client, one per CALL
 *  ERROR    := u8 5 | u8 kind | u16 n | message[n]         kind: ERROR_* below; the call failed
 *
 *  method        arguments                                         result
 *  1 INFO        -                                                 info
 *  2 GET         key                                               u8 found | value if found | cost
 *  3 PUT         key | value                                       cost
 *  4 DELETE      key                                               cost
 *  5 SCAN        key prefix | u8 hasAfter | key after if has | u32 limit    u8 more | u32 count | entry* | cost
 *  6 MEMBERSHIP  -                                                 u64 version | u32 count | u32 node*
 *  7 PUT_IF_ABSENT key | value                                     u8 written | cost       (since version 2)
 *
 *  key    := u16 n | bytes[n]
 *  value  := u32 n | bytes[n]                              n <= MAX_VALUE_BYTES
 *  entry  := key | value
 *  info   := u64 poolIdMsb | u64 poolIdLsb | u32 nodeCount | u32 replication | u32 maxKeyBytes | u32 maxValueBytes
 *  cost   := u32 roundTrips | u64 verbs | u64 bytes        the coordinator's work for this call
 * </pre>
 *
 * A frame the server cannot parse (bad length, type or method, truncated, trailing bytes, a flag
 * that is neither 0 nor 1, a value length over its bound) closes the connection without executing
 * anything. A well-formed call the coordinator refuses (a key over the pool's bound, say) is
 * answered with an ERROR, and the connection serves on.
 */
final class CoordinatorRpcLayout {

    static final int MAGIC = 0x4f434450; // "PDCO" read little-endian
    /** 2 added PUT_IF_ABSENT; a version-1 server would close the connection on it, so HELLO refuses the mix. */
    static final short VERSION = 2;

    static final int MAX_SECRET_BYTES = MetadataRpcLayout.MAX_SECRET_BYTES;
    static final int MAX_MESSAGE_BYTES = 4096;
    static final int MAX_KEY_BYTES = 0xFFFF;
    /** A value fits one slot, and a slot one READ of the fabric. */
    static final int MAX_VALUE_BYTES = 4 << 20;
    static final int MAX_SCAN_LIMIT = 256;
    static final int MAX_OUT_NODES = 64;
    static final int MAX_HELLO_BYTES = 1 + 4 + 2 + 2 + MAX_SECRET_BYTES;
    static final int COST_BYTES = 4 + 8 + 8;
    /**
     * Largest body: a SCAN page, which the coordinator bounds to 4 MiB of slots (or one entry), each
     * entry's key and value inside its slot, plus the framing of MAX_SCAN_LIMIT entries.
     */
    static final int MAX_BODY_BYTES = 2 + 1 + 4 + MAX_VALUE_BYTES + MAX_SCAN_LIMIT * (2 + 4) + COST_BYTES + (1 << 20);

    static final byte HELLO = 1;
    static final byte WELCOME = 2;
    static final byte REFUSED = 3;
    static final byte CALL = 4;
    static final byte RESULT = 5;

    static final byte INFO = 1;
    static final byte GET = 2;
    static final byte PUT = 3;
    static final byte DELETE = 4;
    static final byte SCAN = 5;
    static final byte MEMBERSHIP = 6;
    static final byte PUT_IF_ABSENT = 7;
    static final byte LAST_METHOD = PUT_IF_ABSENT;

    static final byte OK = 0;
    static final byte ERROR_SPACE_EXHAUSTED = 1;
    static final byte ERROR_ILLEGAL_ARGUMENT = 2;
    static final byte ERROR_ILLEGAL_STATE = 3;
    static final byte ERROR_STORE_UNAVAILABLE = 4;
    static final byte ERROR_INTERNAL = 5;

    static {
        long largestCall = 2 + 2 + MAX_KEY_BYTES + 4 + (long) MAX_VALUE_BYTES;
        if (MAX_BODY_BYTES < largestCall || MAX_BODY_BYTES < MAX_HELLO_BYTES
                || MetadataRpcLayout.LENGTH_PREFIX_BYTES != 4) {
            throw new AssertionError("frame bound must hold the largest call and reply");
        }
    }

    private CoordinatorRpcLayout() {}
}
