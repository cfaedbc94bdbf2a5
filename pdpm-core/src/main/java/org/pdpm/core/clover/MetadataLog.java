package org.pdpm.core.clover;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * and returns only once every copy is durable.
 *
 * <p>The area is two halves. The live one starts with a START record naming its generation; when
 * it fills up, the server writes a snapshot of its state (as ordinary records) into the other half,
 * and only then that half's START record, one generation higher: that single write switches the
 * log, so a crash during compaction leaves the old half live. Sequence numbers never restart, so
 * records left over from an older generation further in a half can never pass for new ones.
 *
 * <p>A node taken out of service keeps a log that stops short; replay therefore reads, among
 * group 0's reachable nodes, the log of the highest generation and then the longest.
 */
final class MetadataLog {

    /** What replay hands out: the buffer and the record's position in it. */
    interface RecordVisitor {
        void visit(byte type, byte[] buffer, int payloadAt);
    }

    /** The live half cannot take the record: the caller compacts and appends again. */
    static final class FullException extends RuntimeException {
        FullException() {
            super("the metadata log's live half is full", null, false, false);
        }
    }

    /** Where one node's log stands: its live half, generation and valid length. */
    private record Extent(int half, long generation, long firstSeq, long length) {}

    private final PoolNodes nodes;
    private final PoolLayout layout;
    private final IntPredicate inService;
    private final long halfBytes;
    private final TrafficCounter traffic = new TrafficCounter();
    private int half;
    private long generation;
    private long nextSeq = 1;
    private long tail;
    private int lastLength;
    private int source;
    /**
     * Why the log takes no more appends, or null. A write that a replica refused (not one that went
     * unanswered) may have landed elsewhere in part, records a later append could line up with, so
     * only a restart, whose replay and repair make the replicas agree, may append again.
     */
    private String unusable;
    /** How far each connected replica's log ran at replay, in the live half. */
    private final Map<Integer, Long> replicaLengths = new HashMap<>();

    MetadataLog(PoolNodes nodes, PoolLayout layout, IntPredicate inService) {
        this.nodes = nodes;
        this.layout = layout;
        this.inService = inService;
        this.halfBytes = layout.logBytes() / 2 / 8 * 8;
    }

    private long halfOffset(int h) {
        return layout.logOffset() + h * halfBytes;
    }

    /**
     * Appends the record {@code encode} builds for the next sequence number, durably on every log
     * replica in service. Fails with {@link FullException} when the live half cannot take it, and
     * with {@link UnreachableReplicasException} when some replica did not answer: the record is then
     * not appended, and the caller may take those nodes out of service and append again.
     */
    void append(LongFunction<byte[]> encode) {
        append(List.of(encode));
    }

    /**
     * Appends the records {@code encoders} build for consecutive sequence numbers, durably on every
     * log replica in service, in one write per replica: after a crash, replay finds a prefix of them
     * (records are checked in sequence). Fails as {@link #append(LongFunction)} does, appending none.
     */
    synchronized void append(List<LongFunction<byte[]>> encoders) {
        checkUsable();
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        long seq = nextSeq;
        int last = 0;
        for (LongFunction<byte[]> encode : encoders) {
            byte[] record = encode.apply(seq++);
            records.writeBytes(record);
            last = record.length;
        }
        if (tail + records.size() > halfBytes) {
            throw new FullException();
        }
        if (records.size() > FabricLimits.MAX_TRANSFER_BYTES) {
            throw new IllegalArgumentException("an append of " + records.size() + " bytes exceeds one transfer ("
                    + FabricLimits.MAX_TRANSFER_BYTES + ")");
        }
        writeEverywhere(halfOffset(half) + tail, records.toByteArray());
        tail += records.size();
        lastLength = last;
        nextSeq = seq;
    }

    /**
     * Writes {@code snapshot} (records built for consecutive sequence numbers) into the other half,
     * then that half's START record: from then on it is the live half. Fails with
     * {@link SpaceExhaustedException} when the snapshot does not fit a half.
     */
    synchronized void compact(List<LongFunction<byte[]>> snapshot) {
        checkUsable();
        int other = 1 - half;
        long startSeq = nextSeq;
        byte[] start = LogRecordLayout.start(startSeq, generation + 1);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        long seq = startSeq + 1;
        for (LongFunction<byte[]> r : snapshot) {
            body.writeBytes(r.apply(seq++));
        }
        long length = start.length + (long) body.size();
        if (length > halfBytes) {
            throw new SpaceExhaustedException("the metadata log cannot hold the server's state: a snapshot takes "
                    + length + " bytes and each half of the log area holds " + halfBytes + "; format the pool with a"
                    + " larger log");
        }
        byte[] bytes = body.toByteArray();
        for (int from = 0; from < bytes.length; from += FabricLimits.MAX_TRANSFER_BYTES) {
            int n = Math.min(FabricLimits.MAX_TRANSFER_BYTES, bytes.length - from);
            byte[] chunk = new byte[n];
            System.arraycopy(bytes, from, chunk, 0, n);
            writeEverywhere(halfOffset(other) + start.length + from, chunk);
        }
        writeEverywhere(halfOffset(other), start);
        half = other;
        generation++;
        tail = length;
        nextSeq = seq;
        lastLength = 0;
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
                unusable = "a write to " + nodes.address(targets.get(i)) + " failed: " + f.getMessage();
                throw new StoreUnavailableException("the metadata log could not be written on " + nodes.address(targets.get(i))
                        + ": " + f.getMessage() + "; the metadata server must be restarted", f);
            }
            unreachable.add(targets.get(i));
            first = first == null ? f : first;
        }
        if (!unreachable.isEmpty()) {
            throw new UnreachableReplicasException(unreachable, first);
        }
    }

    private void checkUsable() {
        if (unusable != null) {
            throw new StoreUnavailableException("the metadata log takes no more records since " + unusable
                    + "; restart the metadata server (its replay makes the log's replicas agree)");
        }
    }

    /**
     * Reads, among group 0's connected nodes, the log of the highest generation and then the
     * longest, and hands every valid record after its START to {@code visitor}. A pool whose log
     * was never started gets a START record first. Nothing else is written: the caller first checks
     * that no node it cannot reach may hold a longer log, then calls {@link #repairTail}.
     */
    synchronized void replay(RecordVisitor visitor) {
        source = -1;
        Extent best = null;
        Map<Integer, Extent> extents = new HashMap<>();
        for (int n = 0; n < layout.replication(); n++) {
            if (nodes.isConnected(n)) {
                Extent e = extent(n);
                extents.put(n, e);
                if (best == null || (e != null && (e.generation() > best.generation()
                        || (e.generation() == best.generation() && e.length() > best.length())))) {
                    best = e;
                    source = n;
                }
            }
        }
        if (source < 0) {
            throw new StoreUnavailableException("no node of group 0 can be reached: the metadata log cannot be read");
        }
        if (best == null) {
            half = 0;
            generation = 1;
            nextSeq = 1;
            tail = 0;
            append(seq -> LogRecordLayout.start(seq, 1));
            lastLength = 0;
            return;
        }
        half = best.half();
        generation = best.generation();
        tail = scan(source, half, best.firstSeq(), visitor);
        // A replica whose live half is another (a compaction's switch reached it or not) holds none of this log.
        replicaLengths.clear();
        for (Map.Entry<Integer, Extent> e : extents.entrySet()) {
            Extent x = e.getValue();
            boolean same = x != null && x.half() == half && x.generation() == generation;
            replicaLengths.put(e.getKey(), same && layout.replication() > 1 ? x.length() : same ? tail : 0);
        }
    }

    /** The node's live half: the valid START of the highest generation, and how long its log runs; null when none. */
    private Extent extent(int node) {
        Extent best = null;
        for (int h = 0; h < 2; h++) {
            byte[] head = nodes.connection(node).read(nodes.region(node), halfOffset(h),
                    (int) Math.min(64, halfBytes));
            long seq = LogRecordLayout.long8(head, LogRecordLayout.SEQ_OFFSET);
            if (LogRecordLayout.validLength(head, 0, head.length, seq) == 0 || LogRecordLayout.type(head, 0)
                    != LogRecordLayout.START) {
                continue;
            }
            long gen = LogRecordLayout.long8(head, LogRecordLayout.PAYLOAD_OFFSET);
            if (best == null || gen > best.generation()) {
                best = new Extent(h, gen, seq, 0);
            }
        }
        if (best == null) {
            return null;
        }
        long length = layout.replication() == 1 ? 0 : scan(node, best.half(), best.firstSeq(), (type, b, at) -> { });
        return new Extent(best.half(), best.generation(), best.firstSeq(), length);
    }

    /**
     * Makes what the replicas in service may disagree on durable on all of them: the last record
     * replayed, and everything past the shortest of their logs (an append of several records may
     * have reached each replica in part).
     */
    synchronized void repairTail() {
        long from = tail - lastLength;
        for (Map.Entry<Integer, Long> e : replicaLengths.entrySet()) {
            if (inService.test(e.getKey())) {
                from = Math.min(from, e.getValue());
            }
        }
        while (from < tail) {
            int n = (int) Math.min(FabricLimits.MAX_TRANSFER_BYTES, tail - from);
            byte[] bytes = nodes.connection(source).read(nodes.region(source), halfOffset(half) + from, n);
            writeEverywhere(halfOffset(half) + from, bytes);
            from += n;
        }
    }

    /**
     * Visits the valid records after the START of {@code node}'s half {@code h}; returns the log's
     * length in bytes and leaves nextSeq after it.
     */
    private long scan(int node, int h, long firstSeq, RecordVisitor visitor) {
        nextSeq = firstSeq;
        int chunk = (int) Math.min(FabricLimits.MAX_TRANSFER_BYTES, halfBytes);
        byte[] buf = new byte[0];
        long bufBase = 0;
        long at = 0;
        lastLength = 0;
        while (true) {
            int inBuf = (int) (at - bufBase);
            int available = buf.length - inBuf;
            int announced = LogRecordLayout.announcedLength(buf, inBuf, available);
            if (available < LogRecordLayout.PAYLOAD_OFFSET || (announced > available && bufBase + buf.length < halfBytes)) {
                int n = (int) Math.min(Math.max(chunk, announced), halfBytes - at);
                if (n <= 0) {
                    break;
                }
                buf = nodes.connection(node).read(nodes.region(node), halfOffset(h) + at, n);
                bufBase = at;
                inBuf = 0;
                available = buf.length;
            }
            int length = LogRecordLayout.validLength(buf, inBuf, available, nextSeq);
            if (length == 0) {
                break;
            }
            if (at > 0) {
                visitor.visit(LogRecordLayout.type(buf, inBuf), buf, inBuf + LogRecordLayout.PAYLOAD_OFFSET);
            }
            lastLength = length;
            at += length;
            nextSeq++;
        }
        return at;
    }

    synchronized long usedBytes() {
        return tail;
    }

    /** Bytes one half of the log area holds. */
    long halfBytes() {
        return halfBytes;
    }

    synchronized long generation() {
        return generation;
    }

    TrafficCounter traffic() {
        return traffic;
    }
}
