package org.pdpm.rdma.tcp;

/** A frame that breaks {@link WireLayout}: the connection that sent it is closed. */
final class MalformedFrameException extends Exception {

    MalformedFrameException(String message) {
        super(message, null, false, false);
    }
}
