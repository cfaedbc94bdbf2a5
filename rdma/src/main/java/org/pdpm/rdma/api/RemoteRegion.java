package org.pdpm.rdma.api;

/**
 * A registered memory region on a memory node, as a client knows it: the region id, its size and
 * the remote key every verb must present (an RDMA rkey). Offsets in verbs are relative to the
 * region's first byte.
 */
public record RemoteRegion(int regionId, long sizeBytes, int rkey) {

    public RemoteRegion {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("sizeBytes=" + sizeBytes + " must be positive");
        }
    }
}
