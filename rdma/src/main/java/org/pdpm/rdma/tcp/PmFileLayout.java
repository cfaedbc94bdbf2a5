package org.pdpm.rdma.tcp;

/**
 * The memory node's PM file: a 4 KiB header, then the region's bytes. Little-endian.
 *
 * <pre>
 *  0        8        12       16       24           40        48      52          4096
 *  | magic  | format | header | region | node id    | created | crc32 |  (zero)   | region ...
 *  | u64    | u32    | u32    | u64    | 2 x u64    | u64 ms  | u32   |           |
 * </pre>
 *
 * The crc32 covers bytes 0..47. The node id is drawn when the file is created and never changes,
 * so a node restarted on the same file is recognisably the same node.
 */
final class PmFileLayout {

    static final long MAGIC = 0x4d454d504d504450L; // "PDPMPMEM" read little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 4096;

    static final int MAGIC_OFFSET = 0;
    static final int FORMAT_OFFSET = 8;
    static final int HEADER_BYTES_OFFSET = 12;
    static final int REGION_BYTES_OFFSET = 16;
    static final int NODE_ID_OFFSET = 24;
    static final int CREATED_OFFSET = 40;
    static final int CRC_OFFSET = 48;

    static {
        if (CRC_OFFSET + 4 > HEADER_BYTES || HEADER_BYTES % 4096 != 0) {
            throw new AssertionError("PM header must fit one page and keep the region page-aligned");
        }
    }

    private PmFileLayout() {}
}
