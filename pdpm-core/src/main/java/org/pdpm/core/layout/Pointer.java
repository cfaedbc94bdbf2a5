package org.pdpm.core.layout;

/**
 * A version's address in one 64-bit word, so that it can be published with a single CAS:
 *
 * <pre>
 *  63         48 47      40 39                                   0
 *  | length/16   | group    | offset in the region (bytes)         |
 * </pre>
 *
 * The length lets a reader fetch the whole version in one READ; the group names the replica set
 * (R memory nodes) that holds it at the same offset on each. Zero is "no version". The top bit is
 * always 0 (lengths stay below 512 KiB), so a word with it set is not a pointer but a marker
 * ({@link EntryLayout#openMarker}).
 */
public final class Pointer {

    public static final long NULL = 0;

    private static final int OFFSET_BITS = 40;
    private static final int GROUP_BITS = 8;
    private static final int LENGTH_SHIFT = OFFSET_BITS + GROUP_BITS;
    /** Lengths are stored in 16-byte units, so entries are 16-byte aligned and at most 1 MiB. */
    public static final int LENGTH_UNIT = 16;
    public static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;
    public static final int MAX_GROUPS = 1 << GROUP_BITS;
    public static final int MAX_LENGTH_BYTES = ((1 << (63 - LENGTH_SHIFT)) - 1) * LENGTH_UNIT;

    private Pointer() {}

    public static long of(int group, long offset, int lengthBytes) {
        if (group < 0 || group >= MAX_GROUPS) {
            throw new IllegalArgumentException("group=" + group + " outside 0.." + (MAX_GROUPS - 1));
        }
        if (offset <= 0 || offset > MAX_OFFSET || offset % LENGTH_UNIT != 0) {
            throw new IllegalArgumentException("offset=" + offset + " must be positive, 16-byte aligned, <= " + MAX_OFFSET);
        }
        if (lengthBytes <= 0 || lengthBytes > MAX_LENGTH_BYTES || lengthBytes % LENGTH_UNIT != 0) {
            throw new IllegalArgumentException("lengthBytes=" + lengthBytes + " must be a positive multiple of 16 <= "
                    + MAX_LENGTH_BYTES);
        }
        return ((long) (lengthBytes / LENGTH_UNIT) << LENGTH_SHIFT) | ((long) group << OFFSET_BITS) | offset;
    }

    public static int group(long pointer) {
        return (int) ((pointer >>> OFFSET_BITS) & (MAX_GROUPS - 1));
    }

    public static long offset(long pointer) {
        return pointer & MAX_OFFSET;
    }

    public static int lengthBytes(long pointer) {
        return (int) (pointer >>> LENGTH_SHIFT) * LENGTH_UNIT;
    }

    public static String toString(long pointer) {
        return pointer == NULL ? "null" : "g" + group(pointer) + "@" + offset(pointer) + "+" + lengthBytes(pointer);
    }
}
