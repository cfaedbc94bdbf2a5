package org.pdpm.core.direct;

import static org.pdpm.core.direct.DirectLayout.INT;
import static org.pdpm.core.direct.DirectLayout.LONG;
import static org.pdpm.core.direct.DirectLayout.SHORT;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One node of the ordered key index, a skip list in the PM of replica group 0. Node 0 is the head
 * sentinel. A node's key never changes while it is linked; a removed node goes on a free list and
 * comes back with its generation one higher, and every pointer names the generation it expects, so
 * a reader that followed a stale pointer notices and starts its search again.
 *
 * <pre>
 *  0     4        6       7       8        12   16         24          32
 *  | gen | keyLen | level | state | crc32c | -  | slot ref | free next | next[MAX_LEVEL] | key |
 *  | u32 | u16    | u8    | u8    | u32    |    | u64      | u64       | u64 each        |
 * </pre>
 *
 * The checksum covers gen, key length, level, state, the slot reference and the key (not the links,
 * which change by single-word writes). A pointer is {@code gen << 32 | node}; 0 is null.
 */
final class IndexLayout {

    static final int MAX_LEVEL = 12;
    /** Fewest slots per group a pool may have; probe windows must fit the table. */
    static final int MIN_SLOTS = 64;
    static final int HEADER_BYTES = 32;
    static final int NEXT_AT = 32;
    static final int GEN_AT = 0;
    static final int SLOT_REF_AT = 16;
    static final int FREE_NEXT_AT = 24;
    static final int STATE_LINKED = 1;
    static final int STATE_FREE = 2;
    static final int STATE_HEAD = 3;

    private static final int KEY_LENGTH_AT = 4;
    private static final int LEVEL_AT = 6;
    private static final int STATE_AT = 7;
    private static final int CRC_AT = 8;

    private IndexLayout() {
    }

    static int nodeBytes(int maxKeyBytes) {
        return DirectLayout.align8(HEADER_BYTES + 8 * MAX_LEVEL + maxKeyBytes);
    }

    static long pointer(int gen, long node) {
        return ((long) gen << 32) | node;
    }

    static long node(long pointer) {
        return pointer & 0xFFFF_FFFFL;
    }

    static int gen(long pointer) {
        return (int) (pointer >>> 32);
    }

    static long nextOffset(int level) {
        return NEXT_AT + 8L * level;
    }

    /** The node's header and key (links not included: the caller writes them). */
    static byte[] encodeHeader(int gen, int level, int state, long slotRef, byte[] key) {
        byte[] b = new byte[HEADER_BYTES];
        INT.set(b, GEN_AT, gen);
        SHORT.set(b, KEY_LENGTH_AT, (short) key.length);
        b[LEVEL_AT] = (byte) level;
        b[STATE_AT] = (byte) state;
        LONG.set(b, SLOT_REF_AT, slotRef);
        INT.set(b, CRC_AT, crc(b, key));
        return b;
    }

    /** A whole node: header, links and key, as one write. */
    static byte[] encode(int gen, int level, int state, long slotRef, long[] next, byte[] key) {
        byte[] b = new byte[NEXT_AT + 8 * MAX_LEVEL + key.length];
        System.arraycopy(encodeHeader(gen, level, state, slotRef, key), 0, b, 0, HEADER_BYTES);
        for (int l = 0; l < MAX_LEVEL; l++) {
            LONG.set(b, NEXT_AT + 8 * l, l < next.length ? next[l] : 0L);
        }
        System.arraycopy(key, 0, b, NEXT_AT + 8 * MAX_LEVEL, key.length);
        return b;
    }

    private static int crc(byte[] header, byte[] key) {
        CRC32C c = new CRC32C();
        c.update(header, 0, CRC_AT);
        c.update(header, SLOT_REF_AT, 8);
        c.update(key);
        return (int) c.getValue();
    }

    /** A node as read, or null when the read was torn. */
    static Node decode(byte[] b, int maxKeyBytes) {
        int keyLength = Short.toUnsignedInt((short) SHORT.get(b, KEY_LENGTH_AT));
        if (keyLength > maxKeyBytes || NEXT_AT + 8 * MAX_LEVEL + keyLength > b.length) {
            return null;
        }
        byte[] key = Arrays.copyOfRange(b, NEXT_AT + 8 * MAX_LEVEL, NEXT_AT + 8 * MAX_LEVEL + keyLength);
        if ((int) INT.get(b, CRC_AT) != crc(b, key)) {
            return null;
        }
        long[] next = new long[MAX_LEVEL];
        for (int l = 0; l < MAX_LEVEL; l++) {
            next[l] = (long) LONG.get(b, NEXT_AT + 8 * l);
        }
        return new Node((int) INT.get(b, GEN_AT), b[LEVEL_AT], b[STATE_AT], (long) LONG.get(b, SLOT_REF_AT),
                (long) LONG.get(b, FREE_NEXT_AT), next, key);
    }

    record Node(int gen, int level, int state, long slotRef, long freeNext, long[] next, byte[] key) {}
}
