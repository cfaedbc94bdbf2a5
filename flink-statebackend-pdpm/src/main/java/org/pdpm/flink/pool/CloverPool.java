package org.pdpm.flink.pool;

import java.util.List;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;

/** A Clover pool: lineage calls go to its metadata server, data to its memory nodes. */
final class CloverPool implements StatePool, AutoCloseable {

    private final String id;
    private final Fabric fabric;
    private final List<NodeAddress> nodes;
    private final MetadataService metadata;
    private final AutoCloseable onClose;

    CloverPool(String id, Fabric fabric, List<NodeAddress> nodes, MetadataService metadata, AutoCloseable onClose) {
        this.id = id;
        this.fabric = fabric;
        this.nodes = List.copyOf(nodes);
        this.metadata = metadata;
        this.onClose = onClose;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int createLineage() {
        return metadata.createLineage();
    }

    @Override
    public int fork(int lineage, long epoch) {
        return metadata.fork(lineage, epoch);
    }

    @Override
    public void dropLineage(int lineage) {
        metadata.dropLineage(lineage);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        metadata.pin(lineage, epoch, owner);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        metadata.unpin(lineage, epoch, owner);
    }

    @Override
    public List<Pin> pins() {
        return metadata.pins();
    }

    /**
     * Flink state is overwritten far more than it is pinned, so the metadata server hears of
     * superseded versions at every {@value #RETIRE_EVERY}th version of a key: a quarter of the
     * collection work, for up to three superseded versions per key waiting.
     */
    static final int RETIRE_EVERY = 4;

    @Override
    public LineageStore open(int lineage, long epoch) {
        return CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(metadata)
                .lineage(lineage).epoch(epoch).retireEvery(RETIRE_EVERY).open();
    }

    @Override
    public void close() throws Exception {
        onClose.close();
    }

    @Override
    public String toString() {
        return "clover pool " + id;
    }
}
