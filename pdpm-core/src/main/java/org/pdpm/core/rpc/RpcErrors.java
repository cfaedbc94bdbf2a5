package org.pdpm.core.rpc;

import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.FabricException;

/**
 * How a failed call crosses the wire, the same for the metadata server and the coordinator: the
 * ERROR kinds of {@link MetadataRpcLayout}, the message they carry, and the exception a client
 * rethrows. {@code who} names the server in messages ("metadata server", "coordinator").
 */
final class RpcErrors {

    private RpcErrors() {
    }

    /** The ERROR kind for what the service threw. */
    static byte kindOf(RuntimeException e) {
        if (e instanceof SpaceExhaustedException) {
            return MetadataRpcLayout.ERROR_SPACE_EXHAUSTED;
        }
        if (e instanceof IllegalArgumentException) {
            return MetadataRpcLayout.ERROR_ILLEGAL_ARGUMENT;
        }
        if (e instanceof IllegalStateException) {
            return MetadataRpcLayout.ERROR_ILLEGAL_STATE;
        }
        // The server's own memory nodes failing leaves it unable to answer now: the same to a client.
        if (e instanceof StoreUnavailableException || e instanceof FabricException) {
            return MetadataRpcLayout.ERROR_STORE_UNAVAILABLE;
        }
        return MetadataRpcLayout.ERROR_INTERNAL;
    }

    /** The message an ERROR carries: the exception's own, with the type for kinds that lose it. */
    static String messageOf(RuntimeException e, String who) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        return switch (kindOf(e)) {
            case MetadataRpcLayout.ERROR_INTERNAL -> e.getClass().getName() + ": " + message;
            case MetadataRpcLayout.ERROR_STORE_UNAVAILABLE -> e instanceof FabricException
                    ? "the " + who + " cannot reach its memory nodes: " + message : message;
            default -> message;
        };
    }

    /** The exception a client rethrows for an ERROR: the server's type and message. */
    static RuntimeException exceptionOf(byte kind, String message, String who, String server)
            throws MalformedFrameException {
        return switch (kind) {
            case MetadataRpcLayout.ERROR_SPACE_EXHAUSTED -> new SpaceExhaustedException(message);
            case MetadataRpcLayout.ERROR_ILLEGAL_ARGUMENT -> new IllegalArgumentException(message);
            case MetadataRpcLayout.ERROR_ILLEGAL_STATE -> new IllegalStateException(message);
            case MetadataRpcLayout.ERROR_STORE_UNAVAILABLE -> new StoreUnavailableException(message);
            case MetadataRpcLayout.ERROR_INTERNAL -> new IllegalStateException("the " + who + " at " + server
                    + " failed: " + message);
            default -> throw new MalformedFrameException("unknown error kind " + kind);
        };
    }
}
