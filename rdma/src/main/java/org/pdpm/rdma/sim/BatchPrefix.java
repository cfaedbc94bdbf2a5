package org.pdpm.rdma.sim;

import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.RemoteRegion;

/** The leading verbs of a batch, for a client that stops in its middle. */
final class BatchPrefix {

    private BatchPrefix() {}

    /**
     * Copies the first {@code verbs} requests of {@code batch}, which the node has already validated,
     * so every region id and rkey in it names one of {@code node}'s regions.
     */
    static Batch of(Batch batch, int verbs, NodeInfo node) {
        Batch prefix = new Batch(Math.max(1, verbs));
        for (int i = 0; i < verbs; i++) {
            RemoteRegion region = node.region(batch.regionId(i));
            long offset = batch.offset(i);
            switch (batch.verb(i)) {
                case READ -> prefix.read(region, offset, batch.length(i));
                case WRITE -> prefix.write(region, offset, batch.source(i), batch.sourceOffset(i), batch.length(i));
                case COMPARE_AND_SWAP -> prefix.compareAndSwap(region, offset, batch.operand(i), batch.swap(i));
                case FETCH_AND_ADD -> prefix.fetchAndAdd(region, offset, batch.operand(i));
                case FLUSH -> prefix.flush(region, offset, batch.length(i));
            }
        }
        return prefix;
    }
}
