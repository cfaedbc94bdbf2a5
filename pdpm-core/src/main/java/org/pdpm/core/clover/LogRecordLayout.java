package org.pdpm.core.clover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * A record of the metadata server's log, which lives in the memory nodes (group 0's log area) so
 * that the server keeps nothing only its memory knows. Little-endian, 8-byte aligned:
 *
 * <pre>
 *  0        4        8      16     17
 *  | length | crc32c | seq  | type | payload ... | pad to 8 |
 *  | u32    | u32    | u64  | u8   |
 *
 *  CLIENT  payload: u64 clientId
 *  BLOCK   payload: u64 clientId | u32 group | u64 blockIndex
 *  KEY     payload: u64 head pointer | u32 slot | u16 keyLength | key
 *  REMOVE  payload: u32 slot | u16 keyLength | key (the key left the index; its slot is free)
 *  SEAL    payload: u32 group | u64 blockIndex | u32 usedBytes
 *  LINEAGE payload: u32 lineage | i32 parent (-1: a root) | u64 forkEpoch
 *  DROP    payload: u32 lineage
 *  PIN     payload: u32 lineage | u64 epoch | u16 ownerLength | owner (UTF-8)
 *  UNPIN   payload: as PIN
 *  OUT     payload: u32 node (taken out of service for good)
 *  START   payload: u64 generation (the first record of a half of the log area)
 *  NEXT    payload: u32 group | u64 next fresh block index (in snapshots)
 * </pre>
 *
 * The crc covers bytes 8..length, and sequence numbers run 1, 2, 3… from the log's start, so replay
 * stops at the first record that is torn, stale (from a previous pool) or never written.
 */
final class LogRecordLayout {

    static final int LENGTH_OFFSET = 0;
    static final int CRC_OFFSET = 4;
    static final int SEQ_OFFSET = 8;
    static final int TYPE_OFFSET = 16;
    static final int PAYLOAD_OFFSET = 17;

    static final byte CLIENT = 1;
    static final byte BLOCK = 2;
    static final byte KEY = 3;
    static final byte SEAL = 4;
    static final byte LINEAGE = 5;
    static final byte DROP = 6;
    static final byte PIN = 7;
    static final byte UNPIN = 8;
    static final byte OUT = 9;
    static final byte REMOVE = 10;
    static final byte START = 11;
    static final byte NEXT = 12;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private LogRecordLayout() {}

    static byte[] client(long seq, long clientId) {
        byte[] r = frame(seq, CLIENT, 8);
        LONG.set(r, PAYLOAD_OFFSET, clientId);
        return seal(r);
    }

    static byte[] block(long seq, long clientId, int group, long blockIndex) {
        byte[] r = frame(seq, BLOCK, 20);
        LONG.set(r, PAYLOAD_OFFSET, clientId);
        INT.set(r, PAYLOAD_OFFSET + 8, group);
        LONG.set(r, PAYLOAD_OFFSET + 12, blockIndex);
        return seal(r);
    }

    static byte[] seal(long seq, int group, long blockIndex, int usedBytes) {
        byte[] r = frame(seq, SEAL, 16);
        INT.set(r, PAYLOAD_OFFSET, group);
        LONG.set(r, PAYLOAD_OFFSET + 4, blockIndex);
        INT.set(r, PAYLOAD_OFFSET + 12, usedBytes);
        return seal(r);
    }

    static byte[] key(long seq, long head, long slot, byte[] key) {
        byte[] r = frame(seq, KEY, 14 + key.length);
        LONG.set(r, PAYLOAD_OFFSET, head);
        INT.set(r, PAYLOAD_OFFSET + 8, (int) slot);
        SHORT.set(r, PAYLOAD_OFFSET + 12, (short) key.length);
        System.arraycopy(key, 0, r, PAYLOAD_OFFSET + 14, key.length);
        return seal(r);
    }

    static byte[] remove(long seq, long slot, byte[] key) {
        byte[] r = frame(seq, REMOVE, 6 + key.length);
        INT.set(r, PAYLOAD_OFFSET, (int) slot);
        SHORT.set(r, PAYLOAD_OFFSET + 4, (short) key.length);
        System.arraycopy(key, 0, r, PAYLOAD_OFFSET + 6, key.length);
        return seal(r);
    }

    static byte[] start(long seq, long generation) {
        byte[] r = frame(seq, START, 8);
        LONG.set(r, PAYLOAD_OFFSET, generation);
        return seal(r);
    }

    static byte[] next(long seq, int group, long nextBlock) {
        byte[] r = frame(seq, NEXT, 12);
        INT.set(r, PAYLOAD_OFFSET, group);
        LONG.set(r, PAYLOAD_OFFSET + 4, nextBlock);
        return seal(r);
    }

    static byte[] lineage(long seq, int lineage, int parent, long forkEpoch) {
        byte[] r = frame(seq, LINEAGE, 16);
        INT.set(r, PAYLOAD_OFFSET, lineage);
        INT.set(r, PAYLOAD_OFFSET + 4, parent);
        LONG.set(r, PAYLOAD_OFFSET + 8, forkEpoch);
        return seal(r);
    }

    static byte[] out(long seq, int node) {
        byte[] r = frame(seq, OUT, 4);
        INT.set(r, PAYLOAD_OFFSET, node);
        return seal(r);
    }

    static byte[] drop(long seq, int lineage) {
        byte[] r = frame(seq, DROP, 4);
        INT.set(r, PAYLOAD_OFFSET, lineage);
        return seal(r);
    }

    /** A PIN or UNPIN record. */
    static byte[] pin(long seq, byte type, int lineage, long epoch, byte[] owner) {
        byte[] r = frame(seq, type, 14 + owner.length);
        INT.set(r, PAYLOAD_OFFSET, lineage);
        LONG.set(r, PAYLOAD_OFFSET + 4, epoch);
        SHORT.set(r, PAYLOAD_OFFSET + 12, (short) owner.length);
        System.arraycopy(owner, 0, r, PAYLOAD_OFFSET + 14, owner.length);
        return seal(r);
    }

    private static byte[] frame(long seq, byte type, int payloadBytes) {
        int length = (PAYLOAD_OFFSET + payloadBytes + 7) & ~7;
        byte[] r = new byte[length];
        INT.set(r, LENGTH_OFFSET, length);
        LONG.set(r, SEQ_OFFSET, seq);
        r[TYPE_OFFSET] = type;
        return r;
    }

    private static byte[] seal(byte[] r) {
        INT.set(r, CRC_OFFSET, crc(r, 0, r.length));
        return r;
    }

    private static int crc(byte[] b, int at, int length) {
        CRC32C c = new CRC32C();
        c.update(b, at + SEQ_OFFSET, length - SEQ_OFFSET);
        return (int) c.getValue();
    }

    /** Length of the valid record at {@code at} with sequence {@code seq}, or 0 where the log ends. */
    static int validLength(byte[] b, int at, int available, long seq) {
        if (available < PAYLOAD_OFFSET) {
            return 0;
        }
        int length = (int) INT.get(b, at + LENGTH_OFFSET);
        if (length < PAYLOAD_OFFSET || length > available || (length & 7) != 0) {
            return 0;
        }
        if ((long) LONG.get(b, at + SEQ_OFFSET) != seq || (int) INT.get(b, at + CRC_OFFSET) != crc(b, at, length)) {
            return 0;
        }
        return length;
    }

    /** Whether a record header announces more bytes than are buffered (the reader must read on). */
    static int announcedLength(byte[] b, int at, int available) {
        return available < 4 ? 0 : (int) INT.get(b, at + LENGTH_OFFSET);
    }

    static byte type(byte[] b, int at) {
        return b[at + TYPE_OFFSET];
    }

    static long long8(byte[] b, int at) {
        return (long) LONG.get(b, at);
    }

    static int int4(byte[] b, int at) {
        return (int) INT.get(b, at);
    }

    static int unsignedShort(byte[] b, int at) {
        return Short.toUnsignedInt((short) SHORT.get(b, at));
    }
}
