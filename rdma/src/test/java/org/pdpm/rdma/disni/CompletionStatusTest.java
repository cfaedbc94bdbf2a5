package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;

import com.ibm.disni.verbs.IbvWC.IbvWcStatus;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.FabricException.Status;

class CompletionStatusTest {

    @Test
    void mapsVerbsStatusesOntoFabricStatuses() {
        assertThat(CompletionStatus.isSuccess(0)).isTrue();
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal())).isEqualTo(Status.REMOTE_ACCESS_ERROR);
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_REM_INV_REQ_ERR.ordinal())).isEqualTo(Status.REMOTE_INVALID_REQUEST);
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_REM_OP_ERR.ordinal())).isEqualTo(Status.REMOTE_OPERATION_ERROR);
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_RETRY_EXC_ERR.ordinal())).isEqualTo(Status.RETRY_EXCEEDED);
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_WR_FLUSH_ERR.ordinal())).isEqualTo(Status.FLUSHED);
        assertThat(CompletionStatus.of(IbvWcStatus.IBV_WC_LOC_LEN_ERR.ordinal())).isEqualTo(Status.LOCAL_LENGTH_ERROR);
        assertThat(CompletionStatus.of(999)).isEqualTo(Status.REMOTE_OPERATION_ERROR);
        assertThat(CompletionStatus.describe(10)).isEqualTo("IBV_WC_REM_ACCESS_ERR");
        assertThat(CompletionStatus.describe(999)).isEqualTo("ibv_wc_status 999");
    }

    @Test
    void disniNumbersStatusesAsRdmaCoreDoes() {
        // enum ibv_wc_status in <infiniband/verbs.h>
        assertThat(IbvWcStatus.IBV_WC_WR_FLUSH_ERR.ordinal()).isEqualTo(5);
        assertThat(IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal()).isEqualTo(10);
        assertThat(IbvWcStatus.IBV_WC_RETRY_EXC_ERR.ordinal()).isEqualTo(12);
        assertThat(IbvWcStatus.IBV_WC_GENERAL_ERR.ordinal()).isEqualTo(21);
    }
}
