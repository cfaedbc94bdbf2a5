package org.pdpm.core.clover;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
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
 * an append writes and flushes the record on all of them that are in service, in one round trip,
 * and returns only once every copy is durable. A node taken out of service keeps a log that stops
 * short; replay therefore reads the longest log group 0 holds.
 */
final class MetadataLog {

    /** What replay hands out: the buffer and the record's position in it. */
    interface RecordVisitor {
        void visit(byte type, byte[] buffer, int payloadAt);
    }

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final IntPredicate inService;
    private final TrafficCounter traffic = new TrafficCounter();
    private long nextSeq = 1;
    private long tail;

    MetadataLog(PoolNodes nodes, PoolLayout layout, IntPredicate inService) {
        this.nodes = nodes;
        this.layout = layout;
        this.inService = inService;
    }

    /**
     * Appends the record {@code encode} builds for the next sequence number, durably on every log
     * replica in service. Fails with {@link SpaceExhaustedException} when the log area is full, and
     * with {@link UnreachableReplicasException} when some replica did not answer: the record is then
     * not appended, and the caller may take those nodes out of service and append again.
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
        List<Integer> targets = new ArrayList<>();
        for (int n = 0; n < layout.replication(); n++) {
            if (inService.test(n)) {
                Batch b = new Batch(2);
                b.write(nodes.region(n), offset, record);
                b.flush(nodes.region(n), offset, record.length);
                rt.post(nodes.connection(n), b);
                targets.add(n);
            }
        }
        if (targets.isEmpty()) {
            throw new StoreUnavailableException("no node of group 0 is in service: the metadata log cannot be written");
        }
        List<RoundTrip.Outcome> outcomes = rt.awaitEach();
        List<Integer> unreachable = new ArrayList<>();
        FabricException first = null;
        for (int i = 0; i < outcomes.size(); i++) {
            FabricException f = outcomes.get(i).failure();
            if (f == null) {
                continue;
            }
            if (!PoolNodes.isUnreachable(f)) {
                throw new StoreUnavailableException("the metadata log could not be written on " + nodes.address(targets.get(i))
                        + ": " + f.getMessage(), f);
            }
            unreachable.add(targets.get(i));
            first = first == null ? f : first;
        }
        if (!unreachable.isEmpty()) {
            throw new UnreachableReplicasException(unreachable, first);
        }
    }

    /**
     * Reads the longest log among group 0's connected nodes and hands every valid record to
     * {@code visitor}. Nothing is written: the caller first checks that no node it cannot reach may
     * hold a longer log, then calls {@link #repairLastRecord}.
     */
    synchronized void replay(RecordVisitor visitor) {
        int source = -1;
        long longest = -1;
        for (int n = 0; n < layout.replication(); n++) {
            if (nodes.isConnected(n)) {
                long bytes = layout.replication() == 1 ? 0 : scan(n, (type, b, at) -> { });
                if (bytes > longest) {
                    longest = bytes;
                    source = n;
                }
            }
        }
        if (source < 0) {
            throw new StoreUnavailableException("no node of group 0 can be reached: the metadata log cannot be read");
        }
        nextSeq = 1;
        tail = scan(source, visitor);
        this.source = source;
    }

    /** Makes the last record replayed durable on every replica in service: a crash may have left it on some. */
    synchronized void repairLastRecord() {
        if (lastLength > 0) {
            byte[] last = nodes.connection(source).read(nodes.region(source), layout.logOffset() + tail - lastLength,
                    lastLength);
            writeEverywhere(layout.logOffset() + tail - lastLength, last);
        }
    }

    private int lastLength;
    private int source;

    /** Visits the valid records of {@code node}'s log; returns its length in bytes and leaves nextSeq after it. */
    private long scan(int node, RecordVisitor visitor) {
        nextSeq = 1;
        int chunk = (int) Math.min(FabricLimits.MAX_TRANSFER_BYTES, layout.logBytes());
        byte[] buf = new byte[0];
        long bufBase = 0;
        long at = 0;
        lastLength = 0;
        while (true) {
            int inBuf = (int) (at - bufBase);
            int available = buf.length - inBuf;
            int announced = LogRecordLayout.announcedLength(buf, inBuf, available);
            if (available < LogRecordLayout.PAYLOAD_OFFSET || (announced > available && bufBase + buf.length < layout.logBytes())) {
                int n = (int) Math.min(Math.max(chunk, announced), layout.logBytes() - at);
                if (n <= 0) {
                    break;
                }
                buf = nodes.connection(node).read(nodes.region(node), layout.logOffset() + at, n);
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
        return at;
    }

    synchronized long usedBytes() {
        return tail;
    }

    TrafficCounter traffic() {
        return traffic;
    }
}
