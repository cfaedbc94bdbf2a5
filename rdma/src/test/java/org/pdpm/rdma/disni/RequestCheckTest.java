package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.RemoteRegion;

class RequestCheckTest {

    private static final RemoteRegion REGION = new RemoteRegion(0, 4096, 17);

    @Test
    void refusesWhatTheNicWouldRefuse() {
        assertRefused(b -> b.read(new RemoteRegion(0, 4096, 18), 0, 8), Status.REMOTE_ACCESS_ERROR, "rkey");
        assertRefused(b -> b.read(new RemoteRegion(1, 4096, 17), 0, 8), Status.REMOTE_ACCESS_ERROR, "no region 1");
        assertRefused(b -> b.read(REGION, 4090, 8), Status.REMOTE_ACCESS_ERROR, "outside");
        assertRefused(b -> b.read(REGION, -8, 8), Status.REMOTE_ACCESS_ERROR, "outside");
        assertRefused(b -> b.read(REGION, Long.MAX_VALUE - 2, 8), Status.REMOTE_ACCESS_ERROR, "outside");
        assertRefused(b -> b.flush(REGION, 8, 4096), Status.REMOTE_ACCESS_ERROR, "outside");
        assertRefused(b -> b.compareAndSwap(REGION, 4, 0, 1), Status.REMOTE_INVALID_REQUEST, "aligned");
        assertRefused(b -> b.fetchAndAdd(REGION, 4096, 1), Status.REMOTE_ACCESS_ERROR, "outside");
    }

    @Test
    void acceptsTheEdgesOfTheRegion() {
        Batch b = new Batch();
        b.write(REGION, 4088, new byte[8]);
        b.compareAndSwap(REGION, 4088, 0, 1);
        b.flush(REGION, 0, 4096);
        b.flush(REGION, 4096, 0);
        b.read(REGION, 0, 4096);
        RequestCheck.validate(b, REGION, "n");
    }

    private static void assertRefused(java.util.function.Consumer<Batch> add, Status status, String text) {
        Batch b = new Batch();
        b.write(REGION, 0, new byte[8]);
        add.accept(b);
        assertThatThrownBy(() -> RequestCheck.validate(b, REGION, "n")).isInstanceOf(FabricException.class)
                .hasMessageContaining("request 1").hasMessageContaining(text)
                .matches(e -> ((FabricException) e).status() == status, "status " + status);
    }
}
