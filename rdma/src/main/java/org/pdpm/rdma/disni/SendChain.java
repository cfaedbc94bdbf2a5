package org.pdpm.rdma.disni;

import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.List;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.FabricLimits;
import org.pdpm.rdma.api.Verb;

/**
 * One batch as a chain of work requests for one {@code ibv_post_send} (one doorbell), and the
 * staging slots its requests use in the connection's registered buffer.
 *
 * <ul>
 *   <li>READ, WRITE, CAS and FAA map one to one onto RDMA READ, RDMA WRITE, ATOMIC_CMP_AND_SWP and
 *       ATOMIC_FETCH_AND_ADD. WRITE sources are copied into staging; READ data and the old values
 *       of atomics land there and are copied out at completion.</li>
 *   <li>FLUSH is the classic read-after-write: a 1-byte RDMA READ of the range's last byte. The
 *       responder answers a READ only after the writes before it on the queue pair, and the PCIe
 *       read that serves it pushes those writes out of the NIC into the memory system; durable
 *       only where the target's DDIO is off (otherwise they may still sit in the LLC).</li>
 *   <li>A request right after a READ or an atomic (in this batch or the one posted before) carries
 *       IBV_SEND_FENCE: the IB ordering rules let a later WRITE overtake an earlier READ or atomic,
 *       and batches promise posting order.</li>
 *   <li>Only the last request is signaled; its completion means the whole chain completed, since
 *       a reliable connection completes requests in order.</li>
 *   <li>Zero-length READs, WRITEs and FLUSHes move nothing and post nothing.</li>
 * </ul>
 * The atomic operands are set on DiSNI's {@code IbvSendWR.Atomic} although DiSNI 2.1 never
 * serializes them: {@link IbvSendWrLayout#writeAtomic} copies them from there into the native
 * request.
 */
final class SendChain {

    /** Low bits of a wr_id that name the request within its batch. */
    static final int INDEX_BITS = 12;

    static {
        if ((1 << INDEX_BITS) < FabricLimits.MAX_BATCH_VERBS) {
            throw new ExceptionInInitializerError("wr_id index bits cannot number a full batch");
        }
    }

    /** Staging slots are 8-byte aligned so atomic results are aligned words. */
    private static final int SLOT_ALIGN = 8;

    /** Most staging bytes one batch can need: every byte moved plus an aligned slot per verb. */
    static final int MAX_STAGING_BYTES = FabricLimits.MAX_BATCH_BYTES + FabricLimits.MAX_BATCH_VERBS * 2 * SLOT_ALIGN;

    private final Batch batch;
    private final List<IbvSendWR> requests;
    private final int[] stagingOffsets;
    private final boolean endsWithReadOrAtomic;

    private SendChain(Batch batch, List<IbvSendWR> requests, int[] stagingOffsets, boolean endsWithReadOrAtomic) {
        this.batch = batch;
        this.requests = requests;
        this.stagingOffsets = stagingOffsets;
        this.endsWithReadOrAtomic = endsWithReadOrAtomic;
    }

    static long wrId(long sequence, int index) {
        return (sequence << INDEX_BITS) | index;
    }

    static long sequenceOf(long wrId) {
        return wrId >>> INDEX_BITS;
    }

    /** Staging bytes {@code batch} needs. */
    static int stagingBytes(Batch batch) {
        int bytes = 0;
        for (int i = 0; i < batch.size(); i++) {
            bytes += slotBytes(batch, i);
        }
        return bytes;
    }

    /** Work requests {@code batch} posts. */
    static int workRequests(Batch batch) {
        int n = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (batch.length(i) > 0) {
                n++;
            }
        }
        return n;
    }

    private static int slotBytes(Batch batch, int i) {
        int length = batch.length(i);
        if (length == 0) {
            return 0;
        }
        int used = batch.verb(i) == Verb.FLUSH ? 1 : length;
        return (used + SLOT_ALIGN - 1) & -SLOT_ALIGN;
    }

    /**
     * Builds the chain, copying WRITE sources into {@code staging} from {@code stagingStart}.
     *
     * @param sequence           the batch's number on its connection, the high bits of every wr_id
     * @param regionAddress      the virtual address of the remote region's first byte
     * @param stagingAddress     the virtual address of {@code staging}'s first byte
     * @param afterReadOrAtomic  whether the last request posted before this batch was a READ or an atomic
     */
    static SendChain build(Batch batch, long sequence, long regionAddress, int rkey, ByteBuffer staging,
                           int stagingStart, long stagingAddress, int lkey, boolean afterReadOrAtomic) {
        int n = batch.size();
        List<IbvSendWR> requests = new ArrayList<>(workRequests(batch));
        int[] offsets = new int[n];
        Arrays.fill(offsets, -1);
        int at = stagingStart;
        boolean fenceNext = afterReadOrAtomic;
        for (int i = 0; i < n; i++) {
            int length = batch.length(i);
            if (length == 0) {
                continue;
            }
            Verb verb = batch.verb(i);
            long remote = regionAddress + batch.offset(i);
            int sgeLength = length;
            IbvSendWR wr = new IbvSendWR();
            switch (verb) {
                case READ -> wr.setOpcode(IbvSendWR.IBV_WR_RDMA_READ);
                case WRITE -> {
                    wr.setOpcode(IbvSendWR.IBV_WR_RDMA_WRITE);
                    staging.put(at, batch.source(i), batch.sourceOffset(i), length);
                }
                case COMPARE_AND_SWAP -> wr.setOpcode(IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP);
                case FETCH_AND_ADD -> wr.setOpcode(IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD);
                case FLUSH -> {
                    wr.setOpcode(IbvSendWR.IBV_WR_RDMA_READ);
                    remote += length - 1;
                    sgeLength = 1;
                }
            }
            if (verb.isAtomic()) {
                wr.getAtomic().setRemote_addr(remote);
                wr.getAtomic().setCompare_add(batch.operand(i));
                wr.getAtomic().setSwap(verb == Verb.COMPARE_AND_SWAP ? batch.swap(i) : 0);
                wr.getAtomic().setRkey(rkey);
            }
            // DiSNI serializes the rdma arm for every opcode; for atomics it is overwritten later.
            wr.getRdma().setRemote_addr(remote);
            wr.getRdma().setRkey(rkey);
            IbvSge sge = new IbvSge();
            sge.setAddr(stagingAddress + at);
            sge.setLength(sgeLength);
            sge.setLkey(lkey);
            LinkedList<IbvSge> sgl = new LinkedList<>();
            sgl.add(sge);
            wr.setSg_list(sgl);
            wr.setNum_sge(1);
            wr.setWr_id(wrId(sequence, i));
            wr.setSend_flags(fenceNext ? IbvSendWR.IBV_SEND_FENCE : 0);
            requests.add(wr);
            offsets[i] = at;
            at += slotBytes(batch, i);
            fenceNext = verb != Verb.WRITE;
        }
        if (!requests.isEmpty()) {
            IbvSendWR last = requests.get(requests.size() - 1);
            last.setSend_flags(last.getSend_flags() | IbvSendWR.IBV_SEND_SIGNALED);
        }
        return new SendChain(batch, requests, offsets, requests.isEmpty() ? afterReadOrAtomic : fenceNext);
    }

    List<IbvSendWR> requests() {
        return requests;
    }

    /** Whether the next request on the queue pair must be fenced. */
    boolean endsWithReadOrAtomic() {
        return endsWithReadOrAtomic;
    }

    /** Where request {@code i}'s staging slot starts, or -1 when it has none. */
    int stagingOffset(int i) {
        return stagingOffsets[i];
    }

    /** Copies READ data and atomic old values out of {@code staging} (host byte order, as the NIC wrote them). */
    BatchResult results(ByteBuffer staging) {
        int n = batch.size();
        byte[][] data = null;
        long[] values = null;
        for (int i = 0; i < n; i++) {
            Verb verb = batch.verb(i);
            if (verb == Verb.READ) {
                if (data == null) {
                    data = new byte[n][];
                }
                byte[] out = new byte[batch.length(i)];
                if (out.length > 0) {
                    staging.get(stagingOffsets[i], out);
                }
                data[i] = out;
            } else if (verb.isAtomic()) {
                if (values == null) {
                    values = new long[n];
                }
                values[i] = staging.getLong(stagingOffsets[i]);
            }
        }
        return new BatchResult(batch, data, values);
    }
}
