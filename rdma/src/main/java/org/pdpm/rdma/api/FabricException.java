package org.pdpm.rdma.api;

/**
 * The one exception every fabric raises for a failed verb or connection. Its {@link Status} is
 * shaped like an RDMA work-completion status so the stores can react the same way on every fabric.
 */
public class FabricException extends RuntimeException {

    /** Why a work request did not complete, after the ibv_wc_status values it mirrors. */
    public enum Status {
        /** rkey does not match, or the range lies outside the region (IBV_WC_REM_ACCESS_ERR). */
        REMOTE_ACCESS_ERROR,
        /** Malformed request: misaligned atomic, bad length, unknown verb (IBV_WC_REM_INV_REQ_ERR). */
        REMOTE_INVALID_REQUEST,
        /** The node failed to carry out a valid request, e.g. an I/O error on its PM (IBV_WC_REM_OP_ERR). */
        REMOTE_OPERATION_ERROR,
        /** The node did not answer: dead, unreachable or timed out (IBV_WC_RETRY_EXC_ERR). */
        RETRY_EXCEEDED,
        /** Not executed because the connection was closed or broke first (IBV_WC_WR_FLUSH_ERR). */
        FLUSHED,
        /** The request exceeds a local bound, e.g. too many verbs or bytes (IBV_WC_LOC_LEN_ERR). */
        LOCAL_LENGTH_ERROR,
        /** The connection could not be set up: refused, wrong secret, incompatible node. */
        CONNECTION_REFUSED,
        /** This fabric cannot run on this machine (missing native library or RDMA device). */
        UNAVAILABLE
    }

    private final Status status;

    public FabricException(Status status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    public FabricException(Status status, String message, Throwable cause) {
        super(status + ": " + message, cause);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
