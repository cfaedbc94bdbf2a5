package org.pdpm.core.rpc;

/** A frame that breaks {@link MetadataRpcLayout}: the connection that carried it is closed. */
final class MalformedFrameException extends Exception {

    MalformedFrameException(String message) {
        super(message);
    }
}
