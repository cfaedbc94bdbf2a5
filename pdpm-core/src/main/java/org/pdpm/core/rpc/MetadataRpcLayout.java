package org.pdpm.core.rpc;

import org.pdpm.core.api.Lineages;
import org.pdpm.core.clover.MetadataService;

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
 *  method            arguments                                      result
 *  1  POOL           -                                              pool
 *  2  REGISTER       -                                              u64 clientId
 *  3  LOOKUP         key                                            u8 found | location if found
 *  4  CREATE         key | u64 head                                 location
 *  5  GRANT          u64 clientId                                   grant
 *  6  SEAL           u64 clientId | grant | u32 usedBytes           -
 *  7  SCAN           key prefix | u8 hasAfter | key after if has | u32 limit    u32 count | location*
 *  8  RETIRE         key | u64 superseded | u64 tail | u64 tailSeq  -
 *  9  NEW_LINEAGE    -                                              u32 lineage
 *  10 FORK           u32 lineage | u64 epoch                        u32 lineage
 *  11 LINEAGE        u32 lineage                                    lineage
 *  12 DROP_LINEAGE   u32 lineage                                    -
 *  13 PIN            u32 lineage | u64 epoch | owner                -
 *  14 UNPIN          u32 lineage | u64 epoch | owner                -
 *  15 PINS           -                                              u32 count | pin*    count <= MAX_PINS
 *  16 MEMBERSHIP     -                                              membership
 *  17 REPORT_UNREACHABLE  u32 node                                  membership
 *  18 CREATE_ALL     u32 count | (key | u64 head)*                  u32 count | location*
 *                    count in 0..MAX_CREATE_ALL; the server refuses more than MAX_CREATE_ALL_KEY_BYTES of keys
 *
 *  key      := u16 n | bytes[n]
 *  location := key | u64 head | u64 tail | u8 created
 *  grant    := u32 group | u64 offset | u32 bytes
 *  pool     := u64 poolIdMsb | u64 poolIdLsb | u32 nodeCount | u32 replication | u64 regionBytes
 *              | u64 logOffset | u64 logBytes | u64 maxKeys | u64 dataOffset | u32 blockBytes
 *  lineage  := u32 id | u8 live | u32 count | range*      count <= MAX_LINEAGE_RANGES
 *  range    := u32 lineage | u64 maxEpoch
 *  pin      := u32 lineage | u64 epoch | owner
 *  owner    := u8 n | utf8[n]                              well-formed UTF-8, n <= MAX_PIN_OWNER_BYTES
 *  membership := u64 version | u32 count | u32 node*      the nodes out of service, count <= MAX_OUT_NODES
 * </pre>
 *
 * Lineage ids travel as the 32 bits of the int and epochs as the 64 bits of the long, so negative
 * values arrive as sent, as do node ids and a membership's version. A frame the server cannot parse (bad length, type or method, truncated,
 * trailing bytes, an owner that is not UTF-8) closes the connection without executing it. A result
 * over its cap (more pins, ranges or out nodes than a reply carries, an owner too long) is never sent: the
 * call fails with an ILLEGAL_STATE error instead. The WELCOME's pool id lets a client notice that
 * the address it reconnects to now serves another pool.
 */
final class MetadataRpcLayout {

    static final int MAGIC = 0x534d4450; // "PDMS" read little-endian
    /** 2: lineages and pins, and a location's head. 3: membership and unreachable nodes. 4: batched creates. */
    static final short VERSION = 4;

    static final int LENGTH_PREFIX_BYTES = 4;
    static final int MAX_SECRET_BYTES = 1024;
    static final int MAX_MESSAGE_BYTES = 4096;
    /** Keys travel with a u16 length, as the metadata log stores them. */
    static final int MAX_KEY_BYTES = 0xFFFF;
    /** Most keys one SCAN may ask for; a store pages through longer ranges. */
    static final int MAX_SCAN_LIMIT = 256;
    /** Most pins one PINS reply carries: a pool holding more cannot list them over this RPC. */
    static final int MAX_PINS = 32_768;
    /** Most ranges of one lineage a reply carries: one per ancestor, so this bounds the fork depth served. */
    static final int MAX_LINEAGE_RANGES = 4096;
    /** Most nodes out of service one membership reply carries: every replica of 256 groups of 3. */
    static final int MAX_OUT_NODES = 256 * 3;

    static final int MAX_HELLO_BYTES = 1 + 4 + 2 + 2 + MAX_SECRET_BYTES;
    static final int LOCATION_FIXED_BYTES = 2 + 8 + 8 + 1;
    static final int PIN_MAX_BYTES = 4 + 8 + 1 + Lineages.MAX_PIN_OWNER_BYTES;
    static final int RANGE_BYTES = 4 + 8;
    static final int MEMBERSHIP_MAX_BYTES = 8 + 4 + MAX_OUT_NODES * 4;
    /**
     * Largest body: a SCAN reply of the most keys of the largest size (16 MiB). A full PINS reply
     * (8.4 MiB), a full LINEAGE reply (48 KiB), a full membership reply (3 KiB), a CALL carrying two keys and
     * one of CREATE_ALL (up to as many keys as a SCAN reply, each with 8 bytes instead of 19) are smaller.
     */
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
    static final byte NEW_LINEAGE = 9;
    static final byte FORK = 10;
    static final byte LINEAGE = 11;
    static final byte DROP_LINEAGE = 12;
    static final byte PIN = 13;
    static final byte UNPIN = 14;
    static final byte PINS = 15;
    static final byte MEMBERSHIP = 16;
    static final byte REPORT_UNREACHABLE = 17;
    static final byte CREATE_ALL = 18;
    /** The highest method number: every one above is unknown. */
    static final byte LAST_METHOD = CREATE_ALL;

    static final byte OK = 0;
    static final byte ERROR_SPACE_EXHAUSTED = 1;
    static final byte ERROR_ILLEGAL_ARGUMENT = 2;
    static final byte ERROR_ILLEGAL_STATE = 3;
    static final byte ERROR_STORE_UNAVAILABLE = 4;
    /** Anything else the service threw: the client sees its type name in the message. */
    static final byte ERROR_INTERNAL = 5;

    static {
        long largestCall = 2 + 2 * (2 + MAX_KEY_BYTES) + 1 + 4;
        long largestScan = 2 + 4 + (long) MAX_SCAN_LIMIT * (LOCATION_FIXED_BYTES + MAX_KEY_BYTES);
        long largestPins = 2 + 4 + (long) MAX_PINS * PIN_MAX_BYTES;
        long largestLineage = 2 + 4 + 1 + 4 + (long) MAX_LINEAGE_RANGES * RANGE_BYTES;
        long largestMembership = 2 + 8 + 4 + (long) MAX_OUT_NODES * 4;
        long bound = MAX_BODY_BYTES;
        if (bound < largestCall || bound < MAX_HELLO_BYTES || bound < largestScan || bound < largestPins
                || bound < largestLineage || bound < largestMembership || bound <= 0) {
            throw new AssertionError("frame bound must hold the largest call and reply");
        }
    }

    private MetadataRpcLayout() {}
}
