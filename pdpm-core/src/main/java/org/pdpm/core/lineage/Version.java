package org.pdpm.core.lineage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One record of a key in a lineage: the epoch it was written in and its value, or a tombstone that
 * hides the key (and whatever the lineage's ancestors held for it).
 *
 * <pre>
 *  u8 format (1) | u8 flags (bit 0: tombstone) | u64 epoch (little-endian) | value
 * </pre>
 */
record Version(long epoch, boolean tombstone, byte[] value) {

    static final byte FORMAT = 1;
    static final int HEADER_BYTES = 1 + 1 + 8;
    private static final byte TOMBSTONE = 1;

    byte[] encode() {
        return ByteBuffer.allocate(HEADER_BYTES + value.length).order(ByteOrder.LITTLE_ENDIAN).put(FORMAT)
                .put(tombstone ? TOMBSTONE : 0).putLong(epoch).put(value).array();
    }

    static Version decode(byte[] bytes) {
        if (bytes.length < HEADER_BYTES || bytes[0] != FORMAT || (bytes[1] & ~TOMBSTONE) != 0) {
            throw new IllegalStateException("not a lineage record: " + bytes.length + " bytes"
                    + (bytes.length > 1 ? ", format=" + bytes[0] + " flags=" + bytes[1] : ""));
        }
        long epoch = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new Version(epoch, bytes[1] == TOMBSTONE, Arrays.copyOfRange(bytes, HEADER_BYTES, bytes.length));
    }

    /** The value a reader sees: null for a tombstone. */
    byte[] visible() {
        return tombstone ? null : value;
    }

    @Override
    public String toString() {
        return "Version[epoch=" + epoch + (tombstone ? ", tombstone" : ", " + value.length + " bytes") + "]";
    }
}
