package org.pdpm.core.rpc;

/**
 * The frames of the metadata server's RPC. Every integer is little-endian. A frame is a 4-byte
 * body length, then the body, whose first byte is the frame type:
 *
 * <pre>
 *  frame    := u32 bodyLength | body                       bodyLength in 1..MAX_BODY_BYTES
 *                                                          (1..MAX_HELLO_BYTES before WELCOME)
 *  HELLO    := u8 1 | u32 MAGIC | u16 VERSION | u16 n | secret[n]        client -> server, first
 *  WELCOME  := u8 2 | u64 poolIdMsb | u64 poolIdLsb                     the pool this server serves
 *  REFUSED  := u8 3 | u16 n | reason[n]                    server -> client, then the server closes
 *  CALL     := u8 4 | u8 method | arguments                client -> server, one at a time
 *  REPLY    := u8 5 | u8 0 | result                        server -> client, one per CALL
 *  ERROR    := u8 5 | u8 kind | u16 n | message[n]         kind: ERROR_* below; the call failed
 *
 *  method        arguments                                          result
 *  1 POOL        -                                                  pool
 *  2 REGISTER    -                                                  u64 clientId
 *  3 LOOKUP      key                                                u8 found | location if found
 *  4 CREATE      key | u64 head                                     location
 *  5 GRANT       u64 clientId                                       grant
 *  6 SEAL        u64 clientId | grant | u32 usedBytes               -
 *  7 SCAN        key prefix | u8 hasAfter | key after if has | u32 limit    u32 count | location*
 *  8 RETIRE      key | u64 superseded | u64 tail | u64 tailSeq      -
 *
 *  key      := u16 n | bytes[n]
 *  location := key | u64 tail | u8 created
 *  grant    := u32 group | u64 offset | u32 bytes
 *  pool     := u64 poolIdMsb | u64 poolIdLsb | u32 nodeCount | u32 replication | u64 regionBytes
 *              | u64 logOffset | u64 logBytes | u64 maxKeys | u64 dataOffset | u32 blockBytes
 * </pre>
 *
 * A frame the server cannot parse (bad length, type or method, truncated, trailing bytes) closes
 * the connection without executing it. The WELCOME's pool id lets a client notice that the
 * address it reconnects to now serves another pool.
 */
final class MetadataRpcLayout {

    static final int MAGIC = 0x534d4450; // "PDMS" read little-endian
    static final short VERSION = 1;

    static final int LENGTH_PREFIX_BYTES = 4;
    static final int MAX_SECRET_BYTES = 1024;
    static final int MAX_MESSAGE_BYTES = 4096;
    /** Keys travel with a u16 length, as the metadata log stores them. */
    static final int MAX_KEY_BYTES = 0xFFFF;
    /** Most keys one SCAN may ask for; a store pages through longer ranges. */
    static final int MAX_SCAN_LIMIT = 256;

    static final int MAX_HELLO_BYTES = 1 + 4 + 2 + 2 + MAX_SECRET_BYTES;
    static final int LOCATION_FIXED_BYTES = 2 + 8 + 1;
    /** Largest body: a SCAN reply of the most keys of the largest size, or a CALL carrying two keys. */
    static final int MAX_BODY_BYTES = 2 + 4 + MAX_SCAN_LIMIT * (LOCATION_FIXED_BYTES + MAX_KEY_BYTES);

    static final byte HELLO = 1;
    static final byte WELCOME = 2;
    static final byte REFUSED = 3;
    static final byte CALL = 4;
    static final byte RESULT = 5;

    static final byte POOL = 1;
    static final byte REGISTER = 2;
    static final byte LOOKUP = 3;
    static final byte CREATE = 4;
    static final byte GRANT = 5;
    static final byte SEAL = 6;
    static final byte SCAN = 7;
    static final byte RETIRE = 8;

    static final byte OK = 0;
    static final byte ERROR_SPACE_EXHAUSTED = 1;
    static final byte ERROR_ILLEGAL_ARGUMENT = 2;
    static final byte ERROR_ILLEGAL_STATE = 3;
    static final byte ERROR_STORE_UNAVAILABLE = 4;
    /** Anything else the service threw: the client sees its type name in the message. */
    static final byte ERROR_INTERNAL = 5;

    static {
        int largestCall = 2 + 2 * (2 + MAX_KEY_BYTES) + 1 + 4;
        if (MAX_BODY_BYTES < largestCall || MAX_BODY_BYTES < MAX_HELLO_BYTES || MAX_BODY_BYTES <= 0) {
            throw new AssertionError("frame bound must hold the largest call and reply");
        }
    }

    private MetadataRpcLayout() {}
}
