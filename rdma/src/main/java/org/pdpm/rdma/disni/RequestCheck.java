package org.pdpm.rdma.disni;

import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.api.Verb;

/**
 * The checks a responder NIC makes (rkey, bounds, atomic alignment), made by the client before the
 * doorbell. On a real queue pair a refused request moves the QP to the error state and flushes
 * everything behind it, and requests ahead of it in the same batch have already landed; checking
 * here keeps the fabric's promise that an invalid batch is refused whole, changes nothing and
 * leaves the connection serving. The NIC still checks too: a key that went stale when the node
 * re-registered its region is caught there.
 */
final class RequestCheck {

    private RequestCheck() {}

    static void validate(Batch batch, RemoteRegion region, String nodeId) {
        for (int i = 0; i < batch.size(); i++) {
            Verb verb = batch.verb(i);
            if (batch.regionId(i) != region.regionId() || batch.rkey(i) != region.rkey()) {
                throw new FabricException(Status.REMOTE_ACCESS_ERROR, "request " + i + " (" + verb + "): no region "
                        + batch.regionId(i) + " with that rkey on node " + nodeId);
            }
            long offset = batch.offset(i);
            long length = batch.length(i);
            long size = region.sizeBytes();
            if (offset < 0 || length < 0 || offset > size - length) {
                throw new FabricException(Status.REMOTE_ACCESS_ERROR, "request " + i + " (" + verb + "): range offset="
                        + offset + " length=" + length + " lies outside region " + region.regionId() + " of " + size
                        + " bytes");
            }
            if (verb.isAtomic() && ((offset & (FabricLimits.ATOMIC_BYTES - 1)) != 0
                    || length != FabricLimits.ATOMIC_BYTES)) {
                throw new FabricException(Status.REMOTE_INVALID_REQUEST, "request " + i + " (" + verb
                        + "): atomics need an 8-byte aligned word, offset=" + offset);
            }
        }
    }
}
