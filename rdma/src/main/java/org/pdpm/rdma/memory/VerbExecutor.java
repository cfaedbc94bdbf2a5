package org.pdpm.rdma.memory;

import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricException.Status;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.Verb;

/**
 * The memory node's "NIC": checks each request of a batch as an RNIC checks a work request (rkey,
 * bounds, atomic alignment) and then carries the batch out in order. Every fabric that owns memory
 * (local, the tcp daemon, the simulation) goes through here, so protection is the same everywhere.
 * A batch with any invalid request is refused whole before anything is touched.
 */
public final class VerbExecutor {

    private final NodeMemory node;

    public VerbExecutor(NodeMemory node) {
        this.node = node;
    }

    public NodeMemory node() {
        return node;
    }

    /** Throws {@link FabricException} naming the first request the node must refuse. */
    public void validate(Batch batch) {
        for (int i = 0; i < batch.size(); i++) {
            validate(batch, i);
        }
    }

    private void validate(Batch batch, int i) {
        Verb verb = batch.verb(i);
        NodeMemory.Registered r = node.region(batch.regionId(i));
        if (node.isClosed()) {
            throw new FabricException(Status.RETRY_EXCEEDED, "node " + node.nodeId() + " is closed");
        }
        if (r == null || r.descriptor().rkey() != batch.rkey(i)) {
            throw new FabricException(Status.REMOTE_ACCESS_ERROR,
                    "request " + i + " (" + verb + "): no region " + batch.regionId(i) + " with that rkey on node "
                            + node.nodeId());
        }
        long offset = batch.offset(i);
        long length = batch.length(i);
        long size = r.descriptor().sizeBytes();
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new FabricException(Status.REMOTE_ACCESS_ERROR,
                    "request " + i + " (" + verb + "): range offset=" + offset + " length=" + length
                            + " lies outside region " + batch.regionId(i) + " of " + size + " bytes");
        }
        if (verb.isAtomic() && ((offset & (FabricLimits.ATOMIC_BYTES - 1)) != 0 || length != FabricLimits.ATOMIC_BYTES)) {
            throw new FabricException(Status.REMOTE_INVALID_REQUEST,
                    "request " + i + " (" + verb + "): atomics need an 8-byte aligned word, offset=" + offset);
        }
    }

    /**
     * Where the executor puts a batch's answers as it produces them, in posting order: a READ's
     * bytes are copied straight from the region, so a node that sends them on never holds them in
     * an array of their own.
     */
    public interface Answers {
        /** Request {@code i} read {@code length} bytes at {@code offset} of {@code memory}: copy them now. */
        void read(int i, RegionMemory memory, long offset, int length);

        /** Request {@code i}, an atomic, found {@code oldValue}. */
        void oldValue(int i, long oldValue);
    }

    /** Validates, then executes the batch in order; the result holds what it read and found. */
    public BatchResult execute(Batch batch) {
        Collected answers = new Collected(batch.size());
        execute(batch, answers);
        return new BatchResult(batch, answers.data, answers.values);
    }

    /** Answers kept in arrays, allocated when the batch has a READ or an atomic. */
    private static final class Collected implements Answers {
        private final int size;
        private byte[][] data;
        private long[] values;

        Collected(int size) {
            this.size = size;
        }

        @Override
        public void read(int i, RegionMemory memory, long offset, int length) {
            if (data == null) {
                data = new byte[size][];
            }
            byte[] out = new byte[length];
            memory.read(offset, out, 0, length);
            data[i] = out;
        }

        @Override
        public void oldValue(int i, long oldValue) {
            if (values == null) {
                values = new long[size];
            }
            values[i] = oldValue;
        }
    }

    /**
     * Validates, then executes the batch in order, handing READs and atomics' old values to
     * {@code answers}. A batch that fails part-way (the node closed under it) has handed over the
     * answers of its first requests only.
     */
    public void execute(Batch batch, Answers answers) {
        validate(batch);
        int n = batch.size();
        for (int i = 0; i < n; i++) {
            NodeMemory.Registered region = node.region(batch.regionId(i));
            if (region == null || node.isClosed()) {
                // Validated a moment ago: the node was closed under this batch, as a dying node is.
                throw new FabricException(Status.RETRY_EXCEEDED, "node " + node.nodeId() + " closed during request " + i);
            }
            RegionMemory m = region.memory();
            long offset = batch.offset(i);
            switch (batch.verb(i)) {
                case READ -> answers.read(i, m, offset, batch.length(i));
                case WRITE -> {
                    m.write(offset, batch.source(i), batch.sourceOffset(i), batch.length(i));
                    if (node.writeThrough()) {
                        m.flush(offset, batch.length(i));
                    }
                }
                case COMPARE_AND_SWAP -> {
                    answers.oldValue(i, m.compareAndSwap(offset, batch.operand(i), batch.swap(i)));
                    if (node.writeThrough()) {
                        m.flush(offset, FabricLimits.ATOMIC_BYTES);
                    }
                }
                case FETCH_AND_ADD -> {
                    answers.oldValue(i, m.fetchAndAdd(offset, batch.operand(i)));
                    if (node.writeThrough()) {
                        m.flush(offset, FabricLimits.ATOMIC_BYTES);
                    }
                }
                case FLUSH -> m.flush(offset, batch.length(i));
            }
        }
    }
}
