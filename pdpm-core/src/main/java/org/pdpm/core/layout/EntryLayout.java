package org.pdpm.core.layout;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * One immutable version of a key: written whole out of place, made durable, and only then
 * published by a CAS on the previous version's {@code next} word. Little-endian.
 *
 * <pre>
 *  0      8        12     14      16        20       24      32       40
 *  | next | crc32c | flags | keyLen | valueLen | lineage | epoch | writer | key | value | pad to 16 |
 *  | u64  | u32    | u16   | u16    | u32      | u32     | u64   | u64   |
 * </pre>
 *
 * {@code next} is the only word that ever changes (from 0 to the successor's pointer, once). The
 * checksum covers everything after it, so a reader detects a torn or reused entry; the key itself
 * ties the entry to its chain, and the writer (a client id) to the block it was allocated from.
 */
public final class EntryLayout {

    public static final int NEXT_OFFSET = 0;
    public static final int CRC_OFFSET = 8;
    public static final int FLAGS_OFFSET = 12;
    public static final int KEY_LENGTH_OFFSET = 14;
    public static final int VALUE_LENGTH_OFFSET = 16;
    public static final int LINEAGE_OFFSET = 20;
    public static final int EPOCH_OFFSET = 24;
    public static final int WRITER_OFFSET = 32;
    public static final int HEADER_BYTES = 40;

    public static final int FLAG_TOMBSTONE = 1;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        if (NEXT_OFFSET != 0 || Pointer.LENGTH_UNIT % 8 != 0) {
            throw new AssertionError("next must be the entry's first word and entries 8-byte aligned, for the CAS");
        }
    }

    private EntryLayout() {}

    /** Bytes an entry of this key and value occupies, padded to the pointer's length unit. */
    public static int entryBytes(int keyLength, int valueLength) {
        int raw = HEADER_BYTES + keyLength + valueLength;
        return (raw + Pointer.LENGTH_UNIT - 1) / Pointer.LENGTH_UNIT * Pointer.LENGTH_UNIT;
    }

    /** A complete entry with {@code next} = 0, ready to be written. */
    public static byte[] encode(long writerId, byte[] key, byte[] value, boolean tombstone, int lineage, long epoch) {
        byte[] e = new byte[entryBytes(key.length, value.length)];
        SHORT.set(e, FLAGS_OFFSET, (short) (tombstone ? FLAG_TOMBSTONE : 0));
        SHORT.set(e, KEY_LENGTH_OFFSET, (short) key.length);
        INT.set(e, VALUE_LENGTH_OFFSET, value.length);
        INT.set(e, LINEAGE_OFFSET, lineage);
        LONG.set(e, EPOCH_OFFSET, epoch);
        LONG.set(e, WRITER_OFFSET, writerId);
        System.arraycopy(key, 0, e, HEADER_BYTES, key.length);
        System.arraycopy(value, 0, e, HEADER_BYTES + key.length, value.length);
        INT.set(e, CRC_OFFSET, checksum(e));
        return e;
    }

    private static int checksum(byte[] e) {
        CRC32C crc = new CRC32C();
        crc.update(e, FLAGS_OFFSET, e.length - FLAGS_OFFSET);
        return (int) crc.getValue();
    }

    /** A decoded entry; {@link #decode} returns null for bytes that are not a whole valid entry. */
    public record Entry(long next, long writerId, byte[] key, byte[] value, boolean tombstone, int lineage, long epoch) {}

    public static Entry decode(byte[] e) {
        if (e.length < HEADER_BYTES || e.length % Pointer.LENGTH_UNIT != 0) {
            return null;
        }
        int keyLength = Short.toUnsignedInt((short) SHORT.get(e, KEY_LENGTH_OFFSET));
        int valueLength = (int) INT.get(e, VALUE_LENGTH_OFFSET);
        if (valueLength < 0 || entryBytes(keyLength, valueLength) != e.length) {
            return null;
        }
        if ((int) INT.get(e, CRC_OFFSET) != checksum(e)) {
            return null;
        }
        byte[] key = new byte[keyLength];
        System.arraycopy(e, HEADER_BYTES, key, 0, keyLength);
        byte[] value = new byte[valueLength];
        System.arraycopy(e, HEADER_BYTES + keyLength, value, 0, valueLength);
        int flags = Short.toUnsignedInt((short) SHORT.get(e, FLAGS_OFFSET));
        return new Entry((long) LONG.get(e, NEXT_OFFSET), (long) LONG.get(e, WRITER_OFFSET), key, value,
                (flags & FLAG_TOMBSTONE) != 0, (int) INT.get(e, LINEAGE_OFFSET), (long) LONG.get(e, EPOCH_OFFSET));
    }
}
