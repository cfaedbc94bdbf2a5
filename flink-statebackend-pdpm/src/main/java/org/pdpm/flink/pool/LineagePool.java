package org.pdpm.flink.pool;

import java.util.List;
import org.pdpm.core.api.LineageStore;
import org.pdpm.core.api.Lineages;

/**
 * A pool as the backend uses it, whatever the store: its lineage catalog (Clover's metadata
 * server, or the catalog Direct and Central keep in the store) and how to open a lineage's client.
 */
final class LineagePool implements StatePool, AutoCloseable {

    /** Opens the client that writes in a lineage. */
    interface Opener {
        LineageStore open(int lineage, long epoch);
    }

    private final String id;
    private final String description;
    private final Lineages lineages;
    private final Opener opener;
    private final AutoCloseable onClose;

    LineagePool(String id, String description, Lineages lineages, Opener opener, AutoCloseable onClose) {
        this.id = id;
        this.description = description;
        this.lineages = lineages;
        this.opener = opener;
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
        return opener.open(lineage, epoch);
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
