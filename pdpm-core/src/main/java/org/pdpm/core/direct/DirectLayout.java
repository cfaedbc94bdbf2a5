package org.pdpm.core.direct;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.pdpm.rdma.api.FabricLimits;

/**
 * How pDPM-Direct lays out every memory node's region. All nodes share one layout; the key index
 * lives on replica group 0 only (its area is unused elsewhere). Little-endian.
 *
 * <pre>
 *  superblock (4 KiB at 0):
 *  0       8        12      16        32     36      40      44        48         56          64       72        80     84
 *  | magic | format | repl. | pool id | node | nodes | maxKey | maxValue | slots/grp | idx nodes | region  | leaseMs | memb.Ms | crc32c |
 *  | u64   | u32    | u32   | 2 x u64 | u32  | u32   | u32    | u32      | u64       | u64       | u64     | u32     | u32     | u32    |
 *  128 format claim word (node 0 only; CAS 0 -> claimant while formatting)
 *  136 membership word   (every node; see {@link Membership})
 *
 *  index header (4 KiB at 4096, group 0): 4096 index lock | 4104 bump (next unused node) | 4112 free list head
 *                                         | 4120 index version
 *  index nodes at 8192: {@code indexNodes} x {@link #nodeBytes}; node 0 is the head sentinel
 *  slots:  {@code slotsPerGroup} x {@link #slotBytes}: [lock u64 | record]
 *  logs:   {@code slotsPerGroup} x {@link #slotBytes}: [unused u64 | record], the redo log of the slot with the same index
 * </pre>
 *
 * The magic is written last when a pool is formatted, so a node with a magic holds a whole superblock.
 */
record DirectLayout(UUID poolId, int nodeCount, int replication, int maxKeyBytes, int maxValueBytes,
                    long slotsPerGroup, long indexNodes, long regionBytes, int leaseMillis, int membershipLeaseMillis) {

    static final long MAGIC = 0x5443455249444d50L; // "PMDIRECT" little-endian
    static final int FORMAT_VERSION = 1;
    static final int SUPERBLOCK_BYTES = 4096;
    static final long FORMAT_CLAIM_OFFSET = 128;
    static final long MEMBERSHIP_OFFSET = 136;
    static final long INDEX_LOCK_OFFSET = 4096;
    static final long INDEX_BUMP_OFFSET = 4104;
    static final long INDEX_FREE_OFFSET = 4112;
    /** Grows by one with every change of the index, written first: a client's cache of index nodes is good while it is unchanged. */
    static final long INDEX_VERSION_OFFSET = 4120;
    /** Lock, bump, free-list head, version: what a writer reads as it takes the index lock. */
    static final int INDEX_HEADER_BYTES = 32;
    static final long INDEX_NODES_OFFSET = 8192;
    /** Memory nodes a pool may have: the membership word keeps one bit per node. */
    static final int MAX_NODES = 32;
    /** A record keeps the key's length in 16 bits. */
    static final int MAX_KEY_BYTES = 0xFFFF;

    private static final int MAGIC_AT = 0;
    private static final int FORMAT_AT = 8;
    private static final int REPLICATION_AT = 12;
    private static final int POOL_ID_AT = 16;
    private static final int NODE_INDEX_AT = 32;
    private static final int NODE_COUNT_AT = 36;
    private static final int MAX_KEY_AT = 40;
    private static final int MAX_VALUE_AT = 44;
    private static final int SLOTS_AT = 48;
    private static final int INDEX_NODES_AT = 56;
    private static final int REGION_AT = 64;
    private static final int LEASE_AT = 72;
    private static final int MEMBERSHIP_LEASE_AT = 76;
    private static final int CRC_AT = 80;
    static final int SUPERBLOCK_USED_BYTES = 144;

    static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        if (CRC_AT + 4 > FORMAT_CLAIM_OFFSET || MEMBERSHIP_OFFSET + 8 > SUPERBLOCK_USED_BYTES
                || INDEX_NODES_OFFSET < INDEX_VERSION_OFFSET + 8 || RecordLayout.HEADER_BYTES % 8 != 0) {
            throw new AssertionError("superblock fields overlap");
        }
    }

    DirectLayout {
        if (replication < 1 || replication > 3) {
            throw new IllegalArgumentException("replication=" + replication + " must be 1..3");
        }
        if (nodeCount < replication || nodeCount % replication != 0 || nodeCount > MAX_NODES) {
            throw new IllegalArgumentException("nodeCount=" + nodeCount + " must be a multiple of replication="
                    + replication + " and at most " + MAX_NODES);
        }
        if (maxKeyBytes < 1 || maxKeyBytes > MAX_KEY_BYTES || maxValueBytes < 0
                || slotBytes(maxKeyBytes, maxValueBytes) > FabricLimits.MAX_TRANSFER_BYTES) {
            throw new IllegalArgumentException("maxKeyBytes=" + maxKeyBytes + " maxValueBytes=" + maxValueBytes
                    + ": keys may have 1.." + MAX_KEY_BYTES + " bytes and a slot (key, value and "
                    + (8 + RecordLayout.HEADER_BYTES) + " bytes of header) must fit one READ of "
                    + FabricLimits.MAX_TRANSFER_BYTES + " bytes");
        }
        if (slotsPerGroup < IndexLayout.MIN_SLOTS || indexNodes < 2) {
            throw new IllegalArgumentException("slotsPerGroup=" + slotsPerGroup + " indexNodes=" + indexNodes
                    + ": the region is too small for this pool");
        }
        if (logsOffset() + slotsPerGroup * slotBytes() > regionBytes) {
            throw new IllegalArgumentException("slotsPerGroup=" + slotsPerGroup + " of " + slotBytes()
                    + " bytes do not fit a region of " + regionBytes + " bytes");
        }
        if (leaseMillis < 1 || membershipLeaseMillis < 1) {
            throw new IllegalArgumentException("leaseMillis=" + leaseMillis + " membershipLeaseMillis="
                    + membershipLeaseMillis + " must be positive");
        }
    }

    /** The largest pool of {@code regionBytes}: as many slots as fit, one index node per slot. */
    static DirectLayout plan(int nodeCount, int replication, long regionBytes, int maxKeyBytes, int maxValueBytes,
                             long slotsPerGroup, int leaseMillis, int membershipLeaseMillis) {
        int groups = nodeCount / Math.max(1, replication);
        long slotBytes = slotBytes(maxKeyBytes, maxValueBytes);
        long nodeBytes = IndexLayout.nodeBytes(maxKeyBytes);
        long slots = slotsPerGroup;
        if (slots <= 0) {
            long perSlot = 2 * slotBytes + (long) groups * nodeBytes;
            slots = (regionBytes - INDEX_NODES_OFFSET - 64) / perSlot;
        }
        return new DirectLayout(UUID.randomUUID(), nodeCount, replication, maxKeyBytes, maxValueBytes, slots,
                slots * groups + 1, regionBytes, leaseMillis, membershipLeaseMillis);
    }

    static int slotBytes(int maxKeyBytes, int maxValueBytes) {
        return align8(8 + RecordLayout.HEADER_BYTES + maxKeyBytes + maxValueBytes);
    }

    int slotBytes() {
        return slotBytes(maxKeyBytes, maxValueBytes);
    }

    int nodeBytes() {
        return IndexLayout.nodeBytes(maxKeyBytes);
    }

    int groups() {
        return nodeCount / replication;
    }

    long indexNodeOffset(long node) {
        return INDEX_NODES_OFFSET + node * nodeBytes();
    }

    long slotsOffset() {
        long end = INDEX_NODES_OFFSET + indexNodes * nodeBytes();
        return (end + 63) / 64 * 64;
    }

    long logsOffset() {
        return slotsOffset() + slotsPerGroup * slotBytes();
    }

    /** The slot's lock word; its record follows it. */
    long slotOffset(long slot) {
        return slotsOffset() + slot * slotBytes();
    }

    long logRecordOffset(long slot) {
        return logsOffset() + slot * slotBytes() + 8;
    }

    int recordBytes() {
        return slotBytes() - 8;
    }

    static int align8(int n) {
        return (n + 7) & ~7;
    }

    /** The superblock of node {@code nodeIndex}, with its magic; the caller writes the magic last. */
    byte[] encodeSuperblock(int nodeIndex) {
        byte[] b = new byte[SUPERBLOCK_USED_BYTES];
        LONG.set(b, MAGIC_AT, MAGIC);
        INT.set(b, FORMAT_AT, FORMAT_VERSION);
        INT.set(b, REPLICATION_AT, replication);
        LONG.set(b, POOL_ID_AT, poolId.getMostSignificantBits());
        LONG.set(b, POOL_ID_AT + 8, poolId.getLeastSignificantBits());
        INT.set(b, NODE_INDEX_AT, nodeIndex);
        INT.set(b, NODE_COUNT_AT, nodeCount);
        INT.set(b, MAX_KEY_AT, maxKeyBytes);
        INT.set(b, MAX_VALUE_AT, maxValueBytes);
        LONG.set(b, SLOTS_AT, slotsPerGroup);
        LONG.set(b, INDEX_NODES_AT, indexNodes);
        LONG.set(b, REGION_AT, regionBytes);
        INT.set(b, LEASE_AT, leaseMillis);
        INT.set(b, MEMBERSHIP_LEASE_AT, membershipLeaseMillis);
        INT.set(b, CRC_AT, crc(b));
        return b;
    }

    private static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b, FORMAT_AT, CRC_AT - FORMAT_AT);
        return (int) c.getValue();
    }

    static boolean hasMagic(byte[] superblock) {
        return (long) LONG.get(superblock, MAGIC_AT) == MAGIC;
    }

    /** True when the node holds nothing at all: no magic of any pool, no claim, no membership. */
    static boolean isBlank(byte[] superblock) {
        for (int i = 0; i < SUPERBLOCK_USED_BYTES; i++) {
            if (superblock[i] != 0) {
                return false;
            }
        }
        return true;
    }

    static long formatClaim(byte[] superblock) {
        return (long) LONG.get(superblock, (int) FORMAT_CLAIM_OFFSET);
    }

    /** A superblock as (layout, node index); throws naming what is wrong with it. */
    static Decoded decode(byte[] b, String where) {
        if (!hasMagic(b)) {
            throw new IllegalStateException(where + " does not hold a pDPM-Direct pool (no Direct magic in its superblock)");
        }
        if ((int) INT.get(b, CRC_AT) != crc(b)) {
            throw new IllegalStateException(where + " has a corrupt pDPM-Direct superblock (checksum mismatch)");
        }
        int format = (int) INT.get(b, FORMAT_AT);
        if (format != FORMAT_VERSION) {
            throw new IllegalStateException(where + " holds Direct pool format " + format + "; this build reads format "
                    + FORMAT_VERSION);
        }
        DirectLayout layout = new DirectLayout(new UUID((long) LONG.get(b, POOL_ID_AT), (long) LONG.get(b, POOL_ID_AT + 8)),
                (int) INT.get(b, NODE_COUNT_AT), (int) INT.get(b, REPLICATION_AT), (int) INT.get(b, MAX_KEY_AT),
                (int) INT.get(b, MAX_VALUE_AT), (long) LONG.get(b, SLOTS_AT), (long) LONG.get(b, INDEX_NODES_AT),
                (long) LONG.get(b, REGION_AT), (int) INT.get(b, LEASE_AT), (int) INT.get(b, MEMBERSHIP_LEASE_AT));
        return new Decoded(layout, (int) INT.get(b, NODE_INDEX_AT));
    }

    record Decoded(DirectLayout layout, int nodeIndex) {}

    /**
     * A key's record in a slot or in the slot's redo log. {@code seq} grows by one with every write
     * of the slot, so the newest of several copies (replicas, log) is the one to keep. An all-zero
     * record is a never-used slot; a tombstone keeps the probe chain going past a deleted key.
     *
     * <pre>
     *  0     8        12      13   14       16         20    24
     *  | seq | crc32c | state | -  | keyLen | valueLen | -   | key | value |
     *  | u64 | u32    | u8    |    | u16    | u32      |     |
     * </pre>
     *
     * The checksum covers the seq and everything after the checksum, up to the end of the value.
     */
    static final class RecordLayout {
        static final int HEADER_BYTES = 24;
        static final int FREE = 0;
        static final int LIVE = 1;
        static final int TOMBSTONE = 2;

        private static final int SEQ_AT = 0;
        private static final int CRC_AT = 8;
        private static final int STATE_AT = 12;
        private static final int KEY_LENGTH_AT = 14;
        private static final int VALUE_LENGTH_AT = 16;

        private RecordLayout() {
        }

        static byte[] encode(long seq, int state, byte[] key, byte[] value) {
            byte[] b = new byte[HEADER_BYTES + key.length + value.length];
            LONG.set(b, SEQ_AT, seq);
            b[STATE_AT] = (byte) state;
            SHORT.set(b, KEY_LENGTH_AT, (short) key.length);
            INT.set(b, VALUE_LENGTH_AT, value.length);
            System.arraycopy(key, 0, b, HEADER_BYTES, key.length);
            System.arraycopy(value, 0, b, HEADER_BYTES + key.length, value.length);
            INT.set(b, CRC_AT, crc(b, 0, b.length));
            return b;
        }

        private static int crc(byte[] b, int from, int length) {
            CRC32C c = new CRC32C();
            c.update(b, from + SEQ_AT, 8);
            c.update(b, from + STATE_AT, length - STATE_AT);
            return (int) c.getValue();
        }

        /** The record at {@code from} in {@code b}, or null when it is torn or corrupt. */
        static Record decode(byte[] b, int from, int maxKeyBytes, int maxValueBytes) {
            if (b.length - from < HEADER_BYTES) {
                return null;
            }
            long seq = (long) LONG.get(b, from + SEQ_AT);
            int state = b[from + STATE_AT];
            int keyLength = Short.toUnsignedInt((short) SHORT.get(b, from + KEY_LENGTH_AT));
            int valueLength = (int) INT.get(b, from + VALUE_LENGTH_AT);
            if (seq == 0 && state == FREE && keyLength == 0 && valueLength == 0 && (int) INT.get(b, from + CRC_AT) == 0) {
                return Record.NEVER_USED;
            }
            if (keyLength > maxKeyBytes || valueLength < 0 || valueLength > maxValueBytes
                    || HEADER_BYTES + keyLength + valueLength > b.length - from || (state != LIVE && state != TOMBSTONE)) {
                return null;
            }
            int length = HEADER_BYTES + keyLength + valueLength;
            if ((int) INT.get(b, from + CRC_AT) != crc(b, from, length)) {
                return null;
            }
            byte[] key = Arrays.copyOfRange(b, from + HEADER_BYTES, from + HEADER_BYTES + keyLength);
            byte[] value = Arrays.copyOfRange(b, from + HEADER_BYTES + keyLength, from + length);
            return new Record(seq, state, key, value, Arrays.copyOfRange(b, from, from + length));
        }
    }

    /** A decoded record; {@code bytes} is its encoding, ready to be written elsewhere. */
    record Record(long seq, int state, byte[] key, byte[] value, byte[] bytes) {
        static final Record NEVER_USED = new Record(0, RecordLayout.FREE, new byte[0], new byte[0],
                new byte[RecordLayout.HEADER_BYTES]);

        boolean live() {
            return state == RecordLayout.LIVE;
        }

        /** Free for a new key: never used, or a deleted key's tombstone. */
        boolean reusable() {
            return state != RecordLayout.LIVE;
        }

        boolean holds(byte[] k) {
            return live() && Arrays.equals(key, k);
        }
    }
}
