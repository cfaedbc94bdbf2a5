package org.pdpm.rdma.api;

import java.util.List;

/**
 * What a client learns about a memory node when it connects: the node's persistent identity
 * (stamped into its PM, so a node restarted on the same PM keeps it) and its regions.
 */
public record NodeInfo(String nodeId, List<RemoteRegion> regions) {

    public NodeInfo {
        regions = List.copyOf(regions);
    }

    /** The region with this id; {@link IllegalArgumentException} when the node has none. */
    public RemoteRegion region(int regionId) {
        for (RemoteRegion r : regions) {
            if (r.regionId() == regionId) {
                return r;
            }
        }
        throw new IllegalArgumentException("regionId=" + regionId + " is not a region of node " + nodeId);
    }

    /** The first region: memory nodes of this project serve exactly one. */
    public RemoteRegion firstRegion() {
        if (regions.isEmpty()) {
            throw new IllegalStateException("node " + nodeId + " exposes no region");
        }
        return regions.get(0);
    }
}
