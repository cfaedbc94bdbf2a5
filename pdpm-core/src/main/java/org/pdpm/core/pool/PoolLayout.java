package org.pdpm.core.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.pdpm.core.layout.Pointer;

/**
 * How a store lays out every memory node's region. Each node starts with a superblock naming the
 * pool and the node's place in it; then the metadata log and the shortcut table (both used on the
 * first replica group only); then equal blocks of data that the metadata server hands to clients.
 * Little-endian.
 *
 * <pre>
 *  superblock (4 KiB):
 *  0       8        12        16         32     36      40      44    48       56        64        72         80          88
 *  | magic | format | replic. | pool id   | node | nodes | block | pad | region | log off | log len | data off | shortcuts | crc32c |
 *  | u64   | u32    | u32     | 2 x u64   | u32  | u32   | u32   |     | u64    | u64     | u64     | u64      | u64       | u32    |
 *
 *  The shortcut table (one 8-byte word per key, in creation order) follows the log directly.
 * </pre>
 *
 * A replica group is R consecutive nodes; a block lives at the same offset on each node of its group.
 */
public record PoolLayout(UUID poolId, int nodeCount, int replication, long regionBytes, long logOffset,
                         long logBytes, long maxKeys, long dataOffset, int blockBytes) {

    public static final long MAGIC = 0x4c4f4f504d504450L; // "PDPMPOOL" little-endian
    public static final int FORMAT_VERSION = 3;
    public static final int SUPERBLOCK_BYTES = 4096;

    private static final int MAGIC_OFFSET = 0;
    private static final int FORMAT_OFFSET = 8;
    private static final int REPLICATION_OFFSET = 12;
    private static final int POOL_ID_OFFSET = 16;
    private static final int NODE_INDEX_OFFSET = 32;
    private static final int NODE_COUNT_OFFSET = 36;
    private static final int BLOCK_BYTES_OFFSET = 40;
    private static final int REGION_OFFSET = 48;
    private static final int LOG_OFFSET_OFFSET = 56;
    private static final int LOG_BYTES_OFFSET = 64;
    private static final int DATA_OFFSET_OFFSET = 72;
    private static final int MAX_KEYS_OFFSET = 80;
    private static final int CRC_OFFSET = 88;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    public PoolLayout {
        if (replication < 1 || replication > 3) {
            throw new IllegalArgumentException("replication=" + replication + " must be 1..3");
        }
        if (nodeCount < replication || nodeCount % replication != 0) {
            throw new IllegalArgumentException("nodeCount=" + nodeCount + " must be a positive multiple of replication="
                    + replication);
        }
        if (nodeCount / replication > Pointer.MAX_GROUPS) {
            throw new IllegalArgumentException("nodeCount=" + nodeCount + " makes more than " + Pointer.MAX_GROUPS + " groups");
        }
        if (blockBytes < 4096 || Integer.bitCount(blockBytes) != 1) {
            throw new IllegalArgumentException("blockBytes=" + blockBytes + " must be a power of two >= 4096");
        }
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys=" + maxKeys + " must be positive");
        }
        if (logOffset < SUPERBLOCK_BYTES || dataOffset < logOffset + logBytes + maxKeys * 8 || dataOffset % blockBytes != 0
                || regionBytes > Pointer.MAX_OFFSET) {
            throw new IllegalArgumentException("inconsistent layout: logOffset=" + logOffset + " logBytes=" + logBytes
                    + " dataOffset=" + dataOffset + " regionBytes=" + regionBytes);
        }
        if (regionBytes - dataOffset < blockBytes) {
            throw new IllegalArgumentException("regionBytes=" + regionBytes + " leaves no room for one block of "
                    + blockBytes + " after the metadata log");
        }
    }

    /**
     * A layout for a new pool: the log takes {@code logBytes}, the shortcut table 8 bytes per key
     * for up to {@code maxKeys} keys, the rest (from the next block boundary) is data.
     */
    public static PoolLayout plan(int nodeCount, int replication, long regionBytes, long logBytes, long maxKeys,
                                  int blockBytes) {
        long metadataEnd = SUPERBLOCK_BYTES + logBytes + maxKeys * 8;
        long dataOffset = (metadataEnd + blockBytes - 1) / blockBytes * blockBytes;
        return new PoolLayout(UUID.randomUUID(), nodeCount, replication, regionBytes, SUPERBLOCK_BYTES, logBytes,
                maxKeys, dataOffset, blockBytes);
    }

    /** Where key number {@code keyIndex} (creation order, from 0) keeps its shortcut word. */
    public long shortcutOffset(long keyIndex) {
        return logOffset + logBytes + keyIndex * 8;
    }

    public int groupCount() {
        return nodeCount / replication;
    }

    public long blocksPerGroup() {
        return (regionBytes - dataOffset) / blockBytes;
    }

    public long blockOffset(long blockIndex) {
        return dataOffset + blockIndex * blockBytes;
    }

    /** The superblock of node {@code nodeIndex}. */
    public byte[] encodeSuperblock(int nodeIndex) {
        byte[] b = new byte[SUPERBLOCK_BYTES];
        LONG.set(b, MAGIC_OFFSET, MAGIC);
        INT.set(b, FORMAT_OFFSET, FORMAT_VERSION);
        INT.set(b, REPLICATION_OFFSET, replication);
        LONG.set(b, POOL_ID_OFFSET, poolId.getMostSignificantBits());
        LONG.set(b, POOL_ID_OFFSET + 8, poolId.getLeastSignificantBits());
        INT.set(b, NODE_INDEX_OFFSET, nodeIndex);
        INT.set(b, NODE_COUNT_OFFSET, nodeCount);
        LONG.set(b, REGION_OFFSET, regionBytes);
        LONG.set(b, LOG_OFFSET_OFFSET, logOffset);
        LONG.set(b, LOG_BYTES_OFFSET, logBytes);
        LONG.set(b, DATA_OFFSET_OFFSET, dataOffset);
        LONG.set(b, MAX_KEYS_OFFSET, maxKeys);
        INT.set(b, BLOCK_BYTES_OFFSET, blockBytes);
        INT.set(b, CRC_OFFSET, crc(b));
        return b;
    }

    private static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b, 0, CRC_OFFSET);
        return (int) c.getValue();
    }

    /** True when the bytes carry no pool at all (a fresh, zeroed region). */
    public static boolean isBlank(byte[] superblock) {
        return (long) LONG.get(superblock, MAGIC_OFFSET) == 0;
    }

    /** A superblock as (layout, node index); throws naming what is wrong with it. */
    public static Decoded decode(byte[] b, String where) {
        if ((long) LONG.get(b, MAGIC_OFFSET) != MAGIC) {
            throw new IllegalStateException(where + " does not hold a pDPM pool (no pool magic in its superblock)");
        }
        if ((int) INT.get(b, CRC_OFFSET) != crc(b)) {
            throw new IllegalStateException(where + " has a corrupt pool superblock (checksum mismatch)");
        }
        int format = (int) INT.get(b, FORMAT_OFFSET);
        if (format != FORMAT_VERSION) {
            throw new IllegalStateException(where + " holds pool format " + format + "; this build reads format "
                    + FORMAT_VERSION);
        }
        PoolLayout layout = new PoolLayout(new UUID((long) LONG.get(b, POOL_ID_OFFSET), (long) LONG.get(b, POOL_ID_OFFSET + 8)),
                (int) INT.get(b, NODE_COUNT_OFFSET), (int) INT.get(b, REPLICATION_OFFSET), (long) LONG.get(b, REGION_OFFSET),
                (long) LONG.get(b, LOG_OFFSET_OFFSET), (long) LONG.get(b, LOG_BYTES_OFFSET),
                (long) LONG.get(b, MAX_KEYS_OFFSET), (long) LONG.get(b, DATA_OFFSET_OFFSET),
                (int) INT.get(b, BLOCK_BYTES_OFFSET));
        return new Decoded(layout, (int) INT.get(b, NODE_INDEX_OFFSET));
    }

    public record Decoded(PoolLayout layout, int nodeIndex) {}
}
