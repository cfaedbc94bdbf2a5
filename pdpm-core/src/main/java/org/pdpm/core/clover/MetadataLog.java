package org.pdpm.core.clover;

import java.util.function.LongFunction;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.pool.PoolLayout;
import org.pdpm.core.pool.PoolNodes;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.RoundTrip;
import org.pdpm.rdma.api.TrafficCounter;

/**
 * The metadata server's write-ahead log, kept in the log area of every node of replica group 0:
 * an append writes and flushes the record on all of them in one round trip and returns only once
 * every copy is durable. Replay reads the primary copy.
 */
final class MetadataLog {

    /** What replay hands out: the buffer and the record's position in it. */
    interface RecordVisitor {
        void visit(byte type, byte[] buffer, int payloadAt);
    }

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final TrafficCounter traffic = new TrafficCounter();
    private long nextSeq = 1;
    private long tail;

    MetadataLog(PoolNodes nodes, PoolLayout layout) {
        this.nodes = nodes;
        this.layout = layout;
    }

    /**
     * Appends the record {@code encode} builds for the next sequence number, durably on every log
     * replica. Fails with {@link SpaceExhaustedException} when the log area is full.
     */
    synchronized void append(LongFunction<byte[]> encode) {
        byte[] record = encode.apply(nextSeq);
        if (tail + record.length > layout.logBytes()) {
            throw new SpaceExhaustedException("the metadata log is full (" + layout.logBytes()
                    + " bytes); the pool needs a larger log area");
        }
        writeEverywhere(layout.logOffset() + tail, record);
        tail += record.length;
        nextSeq++;
    }

    private void writeEverywhere(long offset, byte[] record) {
        RoundTrip rt = RoundTrip.on(traffic);
        for (int n = 0; n < layout.replication(); n++) {
            Batch b = new Batch(2);
            b.write(nodes.region(n), offset, record);
            b.flush(nodes.region(n), offset, record.length);
            rt.post(nodes.connection(n), b);
        }
        try {
            rt.await();
        } catch (FabricException e) {
            throw new StoreUnavailableException("the metadata log could not be written on every replica of group 0: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Reads the log from its start on the primary and hands every valid record to {@code visitor};
     * then makes the last record durable on every replica, since a crash may have left it on some.
     */
    synchronized void replay(RecordVisitor visitor) {
        int chunk = (int) Math.min(FabricLimits.MAX_TRANSFER_BYTES, layout.logBytes());
        byte[] buf = new byte[0];
        long bufBase = 0;
        long at = 0;
        int lastLength = 0;
        while (true) {
            int inBuf = (int) (at - bufBase);
            int available = buf.length - inBuf;
            int announced = LogRecordLayout.announcedLength(buf, inBuf, available);
            if (available < LogRecordLayout.PAYLOAD_OFFSET || (announced > available && bufBase + buf.length < layout.logBytes())) {
                int n = (int) Math.min(Math.max(chunk, announced), layout.logBytes() - at);
                if (n <= 0) {
                    break;
                }
                buf = nodes.connection(0).read(nodes.region(0), layout.logOffset() + at, n);
                bufBase = at;
                inBuf = 0;
                available = buf.length;
            }
            int length = LogRecordLayout.validLength(buf, inBuf, available, nextSeq);
            if (length == 0) {
                break;
            }
            visitor.visit(LogRecordLayout.type(buf, inBuf), buf, inBuf + LogRecordLayout.PAYLOAD_OFFSET);
            lastLength = length;
            at += length;
            nextSeq++;
        }
        tail = at;
        if (lastLength > 0) {
            byte[] last = nodes.connection(0).read(nodes.region(0), layout.logOffset() + at - lastLength, lastLength);
            writeEverywhere(layout.logOffset() + at - lastLength, last);
        }
    }

    synchronized long usedBytes() {
        return tail;
    }

    TrafficCounter traffic() {
        return traffic;
    }
}
