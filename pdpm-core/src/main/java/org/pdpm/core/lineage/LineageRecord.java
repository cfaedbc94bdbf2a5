package org.pdpm.core.lineage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A lineage in the catalog: whether it is live, dropped (no writer any more; kept while a pin or a
 * fork still sees it) or collected (its records are gone; the id is never handed out again), and
 * the point it forked from.
 *
 * <pre>
 *  u8 format (1) | u8 state | i32 parent (-1: a root) | u64 fork epoch      little-endian
 * </pre>
 */
public record LineageRecord(int id, State state, int parent, long forkEpoch) {

    /** Where a lineage is in its life. */
    public enum State { LIVE, DROPPED, COLLECTED }

    static final int NO_PARENT = -1;
    private static final byte FORMAT = 1;
    private static final int BYTES = 1 + 1 + 4 + 8;

    public boolean root() {
        return parent == NO_PARENT;
    }

    LineageRecord with(State next) {
        return new LineageRecord(id, next, parent, forkEpoch);
    }

    byte[] encode() {
        return ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN).put(FORMAT).put((byte) state.ordinal())
                .putInt(parent).putLong(forkEpoch).array();
    }

    static LineageRecord decode(int id, byte[] bytes) {
        if (bytes.length != BYTES || bytes[0] != FORMAT || bytes[1] < 0 || bytes[1] >= State.values().length) {
            throw new IllegalStateException("catalog record of lineage " + id + " is malformed: " + bytes.length
                    + " bytes" + (bytes.length > 1 ? ", format=" + bytes[0] + " state=" + bytes[1] : ""));
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        return new LineageRecord(id, State.values()[bytes[1]], b.getInt(2), b.getLong(6));
    }
}
