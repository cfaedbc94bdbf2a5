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
 *  0      8        12     14      16        20       24      32        40    48
 *  | next | crc32c | flags | keyLen | valueLen | lineage | epoch | version | seq | key | value | pad to 16 |
 *  | u64  | u32    | u16   | u16    | u32      | u32     | u64   | u64     | u64 |
 * </pre>
 *
 * {@code seq} is the entry's position in its chain (the first version is 1): the metadata server
 * compares it to keep its hints moving forward only, whatever order its notices arrive in. A
 * writer that finds the chain longer than it thought rewrites its still-unlinked header first.
 *
 * {@code version} is unique to this entry for the pool's life (its writer's client id and a
 * counter). {@code next} starts as the entry's <em>open marker</em> — the version id with the top
 * bit set, which no pointer has — and changes once, by CAS, to the successor's pointer. Because the
 * CAS expects that marker and not a plain 0, a writer holding a stale pointer to space that has
 * since been reclaimed and reused can never link into someone else's entry; a reader holding one
 * notices the version id differs. The checksum covers everything after {@code next}.
 *
 * <p>When the metadata server collects a version (no lineage or pin can see it), it first links its
 * predecessor past it, then sets its {@code next} to {@link #UNLINKED}: a reader that lands on it
 * through an old pointer asks the server where the chain starts, and a block whose entries are all
 * unlinked can be reused.
 */
public final class EntryLayout {

    public static final int NEXT_OFFSET = 0;
    public static final int CRC_OFFSET = 8;
    public static final int FLAGS_OFFSET = 12;
    public static final int KEY_LENGTH_OFFSET = 14;
    public static final int VALUE_LENGTH_OFFSET = 16;
    public static final int LINEAGE_OFFSET = 20;
    public static final int EPOCH_OFFSET = 24;
    public static final int VERSION_OFFSET = 32;
    public static final int SEQ_OFFSET = 40;
    public static final int HEADER_BYTES = 48;

    public static final int FLAG_TOMBSTONE = 1;

    /** The next word of a version the metadata server has taken out of its chain. */
    public static final long UNLINKED = -1L;

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

    /** The value an entry's next word holds until a successor is linked: its version id, top bit set. */
    public static long openMarker(long versionId) {
        return versionId | Long.MIN_VALUE;
    }

    /** Whether a next word is an open marker: the entry is its chain's tail. */
    public static boolean isTail(long next) {
        return next < 0 && next != UNLINKED;
    }

    /** Whether a next word says the entry was taken out of its chain. */
    public static boolean isUnlinked(long next) {
        return next == UNLINKED;
    }

    /** A complete entry whose next word is its open marker, ready to be written. */
    public static byte[] encode(long versionId, long seq, byte[] key, byte[] value, boolean tombstone, int lineage,
                                long epoch) {
        if (versionId <= 0 || openMarker(versionId) == UNLINKED) {
            throw new IllegalArgumentException("versionId=" + versionId + " must be positive and below 2^63 - 1");
        }
        byte[] e = new byte[entryBytes(key.length, value.length)];
        LONG.set(e, NEXT_OFFSET, openMarker(versionId));
        SHORT.set(e, FLAGS_OFFSET, (short) (tombstone ? FLAG_TOMBSTONE : 0));
        SHORT.set(e, KEY_LENGTH_OFFSET, (short) key.length);
        INT.set(e, VALUE_LENGTH_OFFSET, value.length);
        INT.set(e, LINEAGE_OFFSET, lineage);
        LONG.set(e, EPOCH_OFFSET, epoch);
        LONG.set(e, VERSION_OFFSET, versionId);
        LONG.set(e, SEQ_OFFSET, seq);
        System.arraycopy(key, 0, e, HEADER_BYTES, key.length);
        System.arraycopy(value, 0, e, HEADER_BYTES + key.length, value.length);
        INT.set(e, CRC_OFFSET, checksum(e));
        return e;
    }

    /**
     * The length of the entry whose header starts at {@code at}, from its key and value lengths,
     * or -1 when those cannot be an entry's. Used to walk a block entry by entry.
     */
    public static int lengthAt(byte[] bytes, int at) {
        int keyLength = Short.toUnsignedInt((short) SHORT.get(bytes, at + KEY_LENGTH_OFFSET));
        int valueLength = (int) INT.get(bytes, at + VALUE_LENGTH_OFFSET);
        if (keyLength == 0 || valueLength < 0 || valueLength > Pointer.MAX_LENGTH_BYTES) {
            return -1;
        }
        return entryBytes(keyLength, valueLength);
    }

    /** Gives an unlinked entry another chain position, re-sealing its checksum. */
    public static void setSeq(byte[] entry, long seq) {
        LONG.set(entry, SEQ_OFFSET, seq);
        INT.set(entry, CRC_OFFSET, checksum(entry));
    }

    private static int checksum(byte[] e) {
        CRC32C crc = new CRC32C();
        crc.update(e, FLAGS_OFFSET, e.length - FLAGS_OFFSET);
        return (int) crc.getValue();
    }

    /** A decoded entry; {@link #decode} returns null for bytes that are not a whole valid entry. */
    public record Entry(long next, long versionId, long seq, byte[] key, byte[] value, boolean tombstone, int lineage,
                        long epoch) {
        /** True while no successor is linked. */
        public boolean isTail() {
            return EntryLayout.isTail(next);
        }

        public boolean isUnlinked() {
            return EntryLayout.isUnlinked(next);
        }
    }

    /** What the metadata server needs of a version to collect it: its header alone. */
    public record Header(long next, int lineage, long epoch, long versionId, long seq, boolean tombstone) {
        public boolean isTail() {
            return EntryLayout.isTail(next);
        }

        public boolean isUnlinked() {
            return EntryLayout.isUnlinked(next);
        }
    }

    /** The header at the start of {@code bytes}, which hold at least {@link #HEADER_BYTES}; unchecked. */
    public static Header header(byte[] bytes) {
        return new Header((long) LONG.get(bytes, NEXT_OFFSET), (int) INT.get(bytes, LINEAGE_OFFSET),
                (long) LONG.get(bytes, EPOCH_OFFSET), (long) LONG.get(bytes, VERSION_OFFSET),
                (long) LONG.get(bytes, SEQ_OFFSET), ((short) SHORT.get(bytes, FLAGS_OFFSET) & FLAG_TOMBSTONE) != 0);
    }

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
        return new Entry((long) LONG.get(e, NEXT_OFFSET), (long) LONG.get(e, VERSION_OFFSET),
                (long) LONG.get(e, SEQ_OFFSET), key, value,
                (flags & FLAG_TOMBSTONE) != 0, (int) INT.get(e, LINEAGE_OFFSET), (long) LONG.get(e, EPOCH_OFFSET));
    }
}
