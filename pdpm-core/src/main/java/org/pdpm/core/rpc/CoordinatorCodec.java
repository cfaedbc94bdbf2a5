package org.pdpm.core.rpc;

import org.pdpm.core.central.CoordinatorService.Cost;

/** The compound values and the errors of {@link CoordinatorRpcLayout}. */
final class CoordinatorCodec {

    private CoordinatorCodec() {}

    static void putCost(FrameWriter w, Cost c) {
        w.putInt(c.roundTrips()).putLong(c.verbs()).putLong(c.bytes());
    }

    static Cost getCost(FrameCursor c) throws MalformedFrameException {
        int roundTrips = c.getInt();
        long verbs = c.getLong();
        long bytes = c.getLong();
        if (roundTrips < 0 || verbs < 0 || bytes < 0) {
            throw new MalformedFrameException("cost has a negative count");
        }
        return new Cost(roundTrips, verbs, bytes);
    }

    static void putValue(FrameWriter w, byte[] value) {
        w.putInt(value.length).putBytes(value);
    }

    /** A u32-length value, at most {@link CoordinatorRpcLayout#MAX_VALUE_BYTES} and at most what the frame holds. */
    static byte[] getValue(FrameCursor c) throws MalformedFrameException {
        int n = c.getInt();
        if (n < 0 || n > CoordinatorRpcLayout.MAX_VALUE_BYTES) {
            throw new MalformedFrameException("value length " + Integer.toUnsignedString(n) + " outside 0.."
                    + CoordinatorRpcLayout.MAX_VALUE_BYTES);
        }
        return c.getBytes(n);
    }
}
