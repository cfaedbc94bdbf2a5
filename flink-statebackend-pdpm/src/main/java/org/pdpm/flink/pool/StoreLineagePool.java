package org.pdpm.flink.pool;

import java.util.List;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.lineage.StoreLineages;

/**
 * A pDPM-Direct or pDPM-Central pool: lineages kept in the store itself, with copy-on-write clients
 * over one shared store client of this process.
 */
final class StoreLineagePool implements StatePool, AutoCloseable {

    private final String id;
    private final String description;
    private final StoreLineages lineages;
    private final AutoCloseable onClose;

    StoreLineagePool(String id, String description, StoreLineages lineages, AutoCloseable onClose) {
        this.id = id;
        this.description = description;
        this.lineages = lineages;
        this.onClose = onClose;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int createLineage() {
        return lineages.createLineage();
    }

    @Override
    public int fork(int lineage, long epoch) {
        return lineages.fork(lineage, epoch);
    }

    @Override
    public void dropLineage(int lineage) {
        lineages.dropLineage(lineage);
    }

    @Override
    public void pin(int lineage, long epoch, String owner) {
        lineages.pin(lineage, epoch, owner);
    }

    @Override
    public void unpin(int lineage, long epoch, String owner) {
        lineages.unpin(lineage, epoch, owner);
    }

    @Override
    public List<Pin> pins() {
        return lineages.pins();
    }

    @Override
    public LineageStore open(int lineage, long epoch) {
        return lineages.open(lineage, epoch);
    }

    @Override
    public void close() throws Exception {
        onClose.close();
    }

    @Override
    public String toString() {
        return description;
    }
}
