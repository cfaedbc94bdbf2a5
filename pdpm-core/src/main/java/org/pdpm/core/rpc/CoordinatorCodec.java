package org.pdpm.core.rpc;

import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.central.CoordinatorService.Cost;
import org.pdpm.rdma.api.FabricException;

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

    static byte kindOf(RuntimeException e) {
        if (e instanceof SpaceExhaustedException) {
            return CoordinatorRpcLayout.ERROR_SPACE_EXHAUSTED;
        }
        if (e instanceof IllegalArgumentException) {
            return CoordinatorRpcLayout.ERROR_ILLEGAL_ARGUMENT;
        }
        if (e instanceof IllegalStateException) {
            return CoordinatorRpcLayout.ERROR_ILLEGAL_STATE;
        }
        if (e instanceof StoreUnavailableException || e instanceof FabricException) {
            return CoordinatorRpcLayout.ERROR_STORE_UNAVAILABLE;
        }
        return CoordinatorRpcLayout.ERROR_INTERNAL;
    }

    static String messageOf(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        return switch (kindOf(e)) {
            case CoordinatorRpcLayout.ERROR_INTERNAL -> e.getClass().getName() + ": " + message;
            case CoordinatorRpcLayout.ERROR_STORE_UNAVAILABLE -> e instanceof FabricException
                    ? "the coordinator cannot reach its memory nodes: " + message : message;
            default -> message;
        };
    }

    static RuntimeException exceptionOf(byte kind, String message, String server) throws MalformedFrameException {
        return switch (kind) {
            case CoordinatorRpcLayout.ERROR_SPACE_EXHAUSTED -> new SpaceExhaustedException(message);
            case CoordinatorRpcLayout.ERROR_ILLEGAL_ARGUMENT -> new IllegalArgumentException(message);
            case CoordinatorRpcLayout.ERROR_ILLEGAL_STATE -> new IllegalStateException(message);
            case CoordinatorRpcLayout.ERROR_STORE_UNAVAILABLE -> new StoreUnavailableException(message);
            case CoordinatorRpcLayout.ERROR_INTERNAL -> new IllegalStateException("the coordinator at " + server
                    + " failed: " + message);
            default -> throw new MalformedFrameException("unknown error kind " + kind);
        };
    }
}
