package org.pdpm.rdma.disni;

import com.ibm.disni.RdmaActiveEndpoint;
import com.ibm.disni.RdmaActiveEndpointGroup;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import java.io.IOException;

/**
 * A DiSNI endpoint that hands its completions and connection events to whoever owns it. DiSNI's CQ
 * thread reuses the {@link IbvWC} objects, so only the fields are passed on.
 */
final class DisniEndpoint extends RdmaActiveEndpoint {

    /** What the owner of an endpoint hears. Called on DiSNI's CQ and CM threads. */
    interface Listener {
        /** Runs while DiSNI sets up the queue pair, before the connection is established. */
        void queuePairReady(DisniEndpoint endpoint) throws IOException;

        void completed(long wrId, int status, int byteLength);

        /** The connection was refused, unreachable, lost or disconnected; {@code event} names why. */
        void connectionEnded(String event);
    }

    private volatile Listener listener;

    DisniEndpoint(RdmaActiveEndpointGroup<DisniEndpoint> group, RdmaCmId idPriv, boolean serverSide) throws IOException {
        super(group, idPriv, serverSide);
    }

    void listener(Listener l) {
        this.listener = l;
    }

    @Override
    protected synchronized void init() throws IOException {
        Listener l = listener;
        if (l != null) {
            l.queuePairReady(this);
        }
    }

    @Override
    public void dispatchCqEvent(IbvWC wc) {
        Listener l = listener;
        if (l != null) {
            l.completed(wc.getWr_id(), wc.getStatus(), wc.getByte_len());
        }
    }

    @Override
    public synchronized void dispatchCmEvent(RdmaCmEvent event) throws IOException {
        super.dispatchCmEvent(event);
        int type = event.getEvent();
        // DiSNI 2.1 only logs these, leaving a connect() waiting forever; our owner must hear them.
        if (type == RdmaCmEvent.EventType.RDMA_CM_EVENT_REJECTED.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_UNREACHABLE.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_ERROR.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ADDR_ERROR.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ROUTE_ERROR.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED.ordinal()
                || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_DEVICE_REMOVAL.ordinal()) {
            Listener l = listener;
            if (l != null) {
                l.connectionEnded(RdmaCmEvent.EventType.values()[type].name());
            }
        }
    }
}
