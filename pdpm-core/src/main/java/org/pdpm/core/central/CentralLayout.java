package org.pdpm.core.central;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * How pDPM-Central lays out every memory node's region. Little-endian. Every node of a pool has the
 * same layout; replica group g is nodes {@code g*R .. g*R+R-1}, and a slot or log entry of group g
 * sits at the same offset on each of them.
 *
 * <pre>
 *  region:  | superblock (2 KiB) | control A (64 B) | control B (64 B) | pad to 4 KiB
 *           | log: logEntries x slotBytes | slots: slotsPerNode x slotBytes |
 *
 *  superblock (immutable once formatted):
 *  0       8        12       16        32     36      40        44      48       56      60   64      72       80         88
 *  | magic | format | replic | pool id | node | nodes | slotBytes | maxKey | region | logEnt | pad | logOff | slotOff | slots/node | crc32c |
 *  | u64   | u32    | u32    | 2 x u64 | u32  | u32   | u32       | u32    | u64    | u32    |     | u64    | u64     | u64        | u32    |
 *
 *  control (two copies; the valid one of the higher version wins, so a torn update leaves the other):
 *  0         8         16          24
 *  | version | outMask | highWater | crc32c |
 *  | u64     | u64     | u64       | u32    |     outMask: bit n = node n out of service for good
 *                                                 highWater: slots [0, highWater) may hold records
 *
 *  record (a slot's content, and a log entry's: a log entry is the record its slot is about to get):
 *  0        4       5     6        8      16         20    24     32
 *  | crc32c | state | pad | keyLen | seq  | valueLen | pad | slot | key | value |
 *  | u32    | u8    |     | u16    | u64  | u32      |     | u64  |
 *  state 1 LIVE (key holds value), 2 FREE (the slot holds no key). crc covers bytes 4..end.
 * </pre>
 *
 * A slot number {@code s} lives in group {@code s % groups} at local index {@code s / groups}, so
 * consecutive new keys spread over the groups. Sequence numbers grow over the pool's whole life: of
 * a slot's copies and the log records naming it, the valid one with the highest sequence is the
 * slot's true content (see {@link Coordinator}).
 */
record CentralLayout(UUID poolId, int nodeCount, int replication, long regionBytes, int slotBytes, int maxKeyBytes,
                     int logEntries, long logOffset, long slotOffset, long slotsPerNode) {

    static final long MAGIC = 0x52544e434d504450L; // "PDPMCNTR" little-endian
    static final int FORMAT_VERSION = 1;
    static final int SUPERBLOCK_BYTES = 2048;
    static final int CONTROL_OFFSET = 2048;
    static final int CONTROL_BYTES = 64;
    static final int HEADER_BYTES = 4096;
    /** The out-of-service mask is one word. */
    static final int MAX_NODES = 64;

    private static final int MAGIC_OFFSET = 0;
    private static final int FORMAT_OFFSET = 8;
    private static final int REPLICATION_OFFSET = 12;
    private static final int POOL_ID_OFFSET = 16;
    private static final int NODE_INDEX_OFFSET = 32;
    private static final int NODE_COUNT_OFFSET = 36;
    private static final int SLOT_BYTES_OFFSET = 40;
    private static final int MAX_KEY_OFFSET = 44;
    private static final int REGION_OFFSET = 48;
    private static final int LOG_ENTRIES_OFFSET = 56;
    private static final int LOG_OFFSET_OFFSET = 64;
    private static final int SLOT_OFFSET_OFFSET = 72;
    private static final int SLOTS_PER_NODE_OFFSET = 80;
    private static final int CRC_OFFSET = 88;

    private static final int C_VERSION = 0;
    private static final int C_OUT = 8;
    private static final int C_HIGH_WATER = 16;
    private static final int C_CRC = 24;
    static final int CONTROL_RECORD_BYTES = 32;

    static final int R_CRC = 0;
    static final int R_STATE = 4;
    static final int R_KEY_LENGTH = 6;
    static final int R_SEQ = 8;
    static final int R_VALUE_LENGTH = 16;
    static final int R_SLOT = 24;
    static final int RECORD_HEADER_BYTES = 32;

    static final byte LIVE = 1;
    static final byte FREE = 2;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        if (CRC_OFFSET + 4 > SUPERBLOCK_BYTES || CONTROL_OFFSET + 2 * CONTROL_BYTES > HEADER_BYTES
                || C_CRC + 4 > CONTROL_RECORD_BYTES || CONTROL_RECORD_BYTES > CONTROL_BYTES
                || R_SLOT + 8 != RECORD_HEADER_BYTES) {
            throw new AssertionError("CentralLayout offsets overlap");
        }
    }

    CentralLayout {
        if (replication < 1 || replication > 3) {
            throw new IllegalArgumentException("replication=" + replication + " must be 1..3");
        }
        if (nodeCount < replication || nodeCount % replication != 0 || nodeCount > MAX_NODES) {
            throw new IllegalArgumentException("nodeCount=" + nodeCount + " must be a multiple of replication="
                    + replication + " and at most " + MAX_NODES);
        }
        if (slotBytes < 64 || slotBytes % 8 != 0) {
            throw new IllegalArgumentException("slotBytes=" + slotBytes + " must be a multiple of 8, at least 64");
        }
        if (maxKeyBytes < 1 || maxKeyBytes > 0xFFFF || RECORD_HEADER_BYTES + maxKeyBytes > slotBytes) {
            throw new IllegalArgumentException("maxKeyBytes=" + maxKeyBytes + " must be 1..65535 and leave room in a"
                    + " slot of slotBytes=" + slotBytes);
        }
        if (logEntries < 1) {
            throw new IllegalArgumentException("logEntries=" + logEntries + " must be positive");
        }
        if (logOffset < HEADER_BYTES || slotOffset < logOffset + (long) logEntries * slotBytes || slotsPerNode < 1
                || slotOffset + slotsPerNode * slotBytes > regionBytes) {
            throw new IllegalArgumentException("inconsistent layout: logOffset=" + logOffset + " slotOffset=" + slotOffset
                    + " slotsPerNode=" + slotsPerNode + " regionBytes=" + regionBytes);
        }
    }

    /** A layout for a new pool on nodes of {@code regionBytes}: the log, then as many slots as fit. */
    static CentralLayout plan(int nodeCount, int replication, long regionBytes, int slotBytes, int maxKeyBytes,
                              int logEntries) {
        long logOffset = HEADER_BYTES;
        long slotOffset = logOffset + (long) logEntries * slotBytes;
        long slots = (regionBytes - slotOffset) / slotBytes;
        if (slots < 1) {
            throw new IllegalArgumentException("regionBytes=" + regionBytes + " leaves no room for one slot of "
                    + slotBytes + " bytes after a log of " + logEntries + " entries");
        }
        return new CentralLayout(UUID.randomUUID(), nodeCount, replication, regionBytes, slotBytes, maxKeyBytes,
                logEntries, logOffset, slotOffset, slots);
    }

    int groupCount() {
        return nodeCount / replication;
    }

    long totalSlots() {
        return slotsPerNode * groupCount();
    }

    int maxValueBytes() {
        return slotBytes - RECORD_HEADER_BYTES - maxKeyBytes;
    }

    int groupOf(long slot) {
        return (int) (slot % groupCount());
    }

    long slotOffsetOf(long slot) {
        return slotOffset + (slot / groupCount()) * slotBytes;
    }

    long logEntryOffset(int entry) {
        return logOffset + (long) entry * slotBytes;
    }

    /** Local slots of one group that lie below the global {@code highWater}. */
    long localSlotsBelow(long highWater) {
        return (highWater + groupCount() - 1) / groupCount();
    }

    // ---------------------------------------------------------------- superblock

    byte[] encodeSuperblock(int nodeIndex) {
        byte[] b = new byte[SUPERBLOCK_BYTES];
        LONG.set(b, MAGIC_OFFSET, MAGIC);
        INT.set(b, FORMAT_OFFSET, FORMAT_VERSION);
        INT.set(b, REPLICATION_OFFSET, replication);
        LONG.set(b, POOL_ID_OFFSET, poolId.getMostSignificantBits());
        LONG.set(b, POOL_ID_OFFSET + 8, poolId.getLeastSignificantBits());
        INT.set(b, NODE_INDEX_OFFSET, nodeIndex);
        INT.set(b, NODE_COUNT_OFFSET, nodeCount);
        INT.set(b, SLOT_BYTES_OFFSET, slotBytes);
        INT.set(b, MAX_KEY_OFFSET, maxKeyBytes);
        LONG.set(b, REGION_OFFSET, regionBytes);
        INT.set(b, LOG_ENTRIES_OFFSET, logEntries);
        LONG.set(b, LOG_OFFSET_OFFSET, logOffset);
        LONG.set(b, SLOT_OFFSET_OFFSET, slotOffset);
        LONG.set(b, SLOTS_PER_NODE_OFFSET, slotsPerNode);
        INT.set(b, CRC_OFFSET, crc(b, 0, CRC_OFFSET));
        return b;
    }

    /** True when the bytes carry no pool at all (a fresh, zeroed region). */
    static boolean isBlank(byte[] superblock) {
        for (int i = 0; i < CRC_OFFSET + 4; i++) {
            if (superblock[i] != 0) {
                return false;
            }
        }
        return true;
    }

    record Decoded(CentralLayout layout, int nodeIndex) {}

    /** A superblock as (layout, node index); throws naming what is wrong with it. */
    static Decoded decode(byte[] b, String where) {
        if ((long) LONG.get(b, MAGIC_OFFSET) != MAGIC) {
            throw new IllegalStateException(where + " does not hold a pDPM-Central pool (no Central magic in its"
                    + " superblock; a Clover pool or another program's data?)");
        }
        if ((int) INT.get(b, CRC_OFFSET) != crc(b, 0, CRC_OFFSET)) {
            throw new IllegalStateException(where + " has a corrupt pool superblock (checksum mismatch)");
        }
        int format = (int) INT.get(b, FORMAT_OFFSET);
        if (format != FORMAT_VERSION) {
            throw new IllegalStateException(where + " holds Central pool format " + format + "; this build reads format "
                    + FORMAT_VERSION);
        }
        try {
            CentralLayout layout = new CentralLayout(
                    new UUID((long) LONG.get(b, POOL_ID_OFFSET), (long) LONG.get(b, POOL_ID_OFFSET + 8)),
                    (int) INT.get(b, NODE_COUNT_OFFSET), (int) INT.get(b, REPLICATION_OFFSET),
                    (long) LONG.get(b, REGION_OFFSET), (int) INT.get(b, SLOT_BYTES_OFFSET),
                    (int) INT.get(b, MAX_KEY_OFFSET), (int) INT.get(b, LOG_ENTRIES_OFFSET),
                    (long) LONG.get(b, LOG_OFFSET_OFFSET), (long) LONG.get(b, SLOT_OFFSET_OFFSET),
                    (long) LONG.get(b, SLOTS_PER_NODE_OFFSET));
            return new Decoded(layout, (int) INT.get(b, NODE_INDEX_OFFSET));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(where + " has an inconsistent superblock: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- control

    /** The durable membership and allocation mark. */
    record Control(long version, long outMask, long highWater) {
        boolean isOut(int node) {
            return (outMask & (1L << node)) != 0;
        }
    }

    /** Where the copy of {@code version} goes: the two copies alternate. */
    static long controlOffset(long version) {
        return CONTROL_OFFSET + (version & 1) * CONTROL_BYTES;
    }

    static byte[] encodeControl(Control c) {
        byte[] b = new byte[CONTROL_RECORD_BYTES];
        LONG.set(b, C_VERSION, c.version());
        LONG.set(b, C_OUT, c.outMask());
        LONG.set(b, C_HIGH_WATER, c.highWater());
        INT.set(b, C_CRC, crc(b, 0, C_CRC));
        return b;
    }

    /** The valid control copy of the higher version in a node's header, or null when neither is valid. */
    static Control decodeControl(byte[] header) {
        Control best = null;
        for (int copy = 0; copy < 2; copy++) {
            int at = CONTROL_OFFSET + copy * CONTROL_BYTES;
            if ((int) INT.get(header, at + C_CRC) != crc(header, at, C_CRC)) {
                continue;
            }
            Control c = new Control((long) LONG.get(header, at + C_VERSION), (long) LONG.get(header, at + C_OUT),
                    (long) LONG.get(header, at + C_HIGH_WATER));
            if (c.version() > 0 && (best == null || c.version() > best.version())) {
                best = c;
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- records

    /** A decoded record: what a slot holds, or what a log entry says its slot is about to hold. */
    record Record(byte state, long seq, long slot, byte[] key, byte[] value) {
        boolean live() {
            return state == LIVE;
        }

        @Override
        public String toString() {
            return "Record[" + (state == LIVE ? "LIVE" : "FREE") + " seq=" + seq + " slot=" + slot + " key="
                    + key.length + "B value=" + value.length + "B]";
        }
    }

    static int recordBytes(int keyLength, int valueLength) {
        return RECORD_HEADER_BYTES + keyLength + valueLength;
    }

    static byte[] encodeRecord(byte state, long seq, long slot, byte[] key, byte[] value) {
        byte[] r = new byte[recordBytes(key.length, value.length)];
        r[R_STATE] = state;
        SHORT.set(r, R_KEY_LENGTH, (short) key.length);
        LONG.set(r, R_SEQ, seq);
        INT.set(r, R_VALUE_LENGTH, value.length);
        LONG.set(r, R_SLOT, slot);
        System.arraycopy(key, 0, r, RECORD_HEADER_BYTES, key.length);
        System.arraycopy(value, 0, r, RECORD_HEADER_BYTES + key.length, value.length);
        INT.set(r, R_CRC, crc(r, 4, r.length - 4));
        return r;
    }

    /**
     * The record at {@code at} in {@code b} (at most {@code available} bytes of it there), or null
     * when it is not a whole, valid record of this layout: never written, torn, or garbage.
     */
    Record decodeRecord(byte[] b, int at, int available) {
        if (available < RECORD_HEADER_BYTES) {
            return null;
        }
        byte state = b[at + R_STATE];
        if (state != LIVE && state != FREE) {
            return null;
        }
        int keyLength = Short.toUnsignedInt((short) SHORT.get(b, at + R_KEY_LENGTH));
        int valueLength = (int) INT.get(b, at + R_VALUE_LENGTH);
        if (keyLength > maxKeyBytes || valueLength < 0 || valueLength > maxValueBytes()) {
            return null;
        }
        int length = recordBytes(keyLength, valueLength);
        if (length > available || (int) INT.get(b, at + R_CRC) != crc(b, at + 4, length - 4)) {
            return null;
        }
        byte[] key = Arrays.copyOfRange(b, at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + keyLength);
        byte[] value = Arrays.copyOfRange(b, at + RECORD_HEADER_BYTES + keyLength, at + length);
        return new Record(state, (long) LONG.get(b, at + R_SEQ), (long) LONG.get(b, at + R_SLOT), key, value);
    }

    private static int crc(byte[] b, int at, int length) {
        CRC32C c = new CRC32C();
        c.update(b, at, length);
        return (int) c.getValue();
    }
}
