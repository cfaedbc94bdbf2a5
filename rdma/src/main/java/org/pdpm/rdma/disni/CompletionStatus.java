package org.pdpm.rdma.disni;

import com.ibm.disni.verbs.IbvWC.IbvWcStatus;
import org.pdpm.rdma.api.FabricException.Status;

/** Maps an {@code ibv_wc_status} onto the fabric's status, which was shaped after it. */
final class CompletionStatus {

    private CompletionStatus() {}

    static boolean isSuccess(int ibvWcStatus) {
        return ibvWcStatus == IbvWcStatus.IBV_WC_SUCCESS.ordinal();
    }

    static Status of(int ibvWcStatus) {
        IbvWcStatus s = name(ibvWcStatus);
        if (s == null) {
            return Status.REMOTE_OPERATION_ERROR;
        }
        return switch (s) {
            case IBV_WC_REM_ACCESS_ERR -> Status.REMOTE_ACCESS_ERROR;
            case IBV_WC_REM_INV_REQ_ERR, IBV_WC_REM_INV_RD_REQ_ERR -> Status.REMOTE_INVALID_REQUEST;
            case IBV_WC_RETRY_EXC_ERR, IBV_WC_RNR_RETRY_EXC_ERR, IBV_WC_RESP_TIMEOUT_ERR -> Status.RETRY_EXCEEDED;
            case IBV_WC_WR_FLUSH_ERR -> Status.FLUSHED;
            case IBV_WC_LOC_LEN_ERR -> Status.LOCAL_LENGTH_ERROR;
            default -> Status.REMOTE_OPERATION_ERROR;
        };
    }

    /** The verbs name of a status, for messages. */
    static String describe(int ibvWcStatus) {
        IbvWcStatus s = name(ibvWcStatus);
        return s == null ? "ibv_wc_status " + ibvWcStatus : s.name();
    }

    private static IbvWcStatus name(int ibvWcStatus) {
        IbvWcStatus[] all = IbvWcStatus.values();
        return ibvWcStatus >= 0 && ibvWcStatus < all.length ? all[ibvWcStatus] : null;
    }
}
