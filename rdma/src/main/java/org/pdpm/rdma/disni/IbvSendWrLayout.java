package org.pdpm.rdma.disni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The C layout of rdma-core's {@code struct ibv_send_wr} ({@code <infiniband/verbs.h>}) on 64-bit
 * Linux, and the repair of DiSNI 2.1's work-request serializer for atomics.
 *
 * <pre>
 *   0        8        16        24        28       32          36         40
 *   +--------+--------+---------+---------+--------+-----------+----------+
 *   | wr_id  | next   | sg_list | num_sge | opcode | send_flags| imm_data |
 *   | u64    | ptr    | ptr     | i32     | i32    | u32       | u32      |
 *   +--------+--------+---------+---------+--------+-----------+----------+
 *   union wr, at 40:
 *            40                   48                56          64       68
 *   rdma     | remote_addr u64    | rkey u32 | pad  |
 *   atomic   | remote_addr u64    | compare_add u64 | swap u64  | rkey u32 |
 *   (further unions for XRC, memory-window bind and TSO follow; sizeof is 128)
 * </pre>
 *
 * DiSNI 2.1 lays each request of a post out {@value #DISNI_WR_STRIDE} bytes apart in a native
 * command buffer and always writes the union as its {@code rdma} arm: for an atomic, the rkey lands
 * in the low half of {@code compare_add}, and {@code swap} and the atomic {@code rkey} keep whatever
 * an earlier post left in the pooled buffer. {@link #writeAtomic} overwrites the whole atomic arm
 * after DiSNI has serialized and before the doorbell. Only fields below 72 are ever read for an RC
 * queue pair's READ, WRITE and atomics, so the shorter stride is harmless for these opcodes.
 * Fields are in the host's byte order, as the C struct is.
 */
final class IbvSendWrLayout {

    static final int WR_ID = 0;
    static final int NEXT = 8;
    static final int SG_LIST = 16;
    static final int NUM_SGE = 24;
    static final int OPCODE = 28;
    static final int SEND_FLAGS = 32;
    static final int IMM_DATA = 36;
    /** Start of {@code union wr}. */
    static final int WR_UNION = 40;

    static final int RDMA_REMOTE_ADDR = WR_UNION;
    static final int RDMA_RKEY = WR_UNION + 8;

    static final int ATOMIC_REMOTE_ADDR = WR_UNION;
    static final int ATOMIC_COMPARE_ADD = WR_UNION + 8;
    static final int ATOMIC_SWAP = WR_UNION + 16;
    static final int ATOMIC_RKEY = WR_UNION + 24;
    /** First byte past the atomic arm. */
    static final int ATOMIC_END = ATOMIC_RKEY + 4;

    /** How far apart DiSNI 2.1 places consecutive requests (its {@code NatIbvSendWR.CSIZE}). */
    static final int DISNI_WR_STRIDE = 72;

    static {
        if (ATOMIC_END > DISNI_WR_STRIDE || (ATOMIC_SWAP & 7) != 0 || (WR_UNION & 7) != 0) {
            throw new ExceptionInInitializerError("ibv_send_wr layout constants are inconsistent");
        }
    }

    private IbvSendWrLayout() {}

    /**
     * Checks that the request DiSNI serialized at {@code wrPosition} is the one we mean to patch
     * (same wr_id and opcode), so a layout drift can never turn into wrong operands on the wire.
     */
    static void checkSerialized(ByteBuffer cmd, int wrPosition, long wrId, int opcode) {
        if (cmd.order() != ByteOrder.nativeOrder()) {
            throw new IllegalStateException("command buffer order=" + cmd.order() + " is not the host's");
        }
        if (wrPosition < 0 || wrPosition > cmd.capacity() - DISNI_WR_STRIDE) {
            throw new IllegalStateException("wrPosition=" + wrPosition + " outside command buffer of "
                    + cmd.capacity() + " bytes");
        }
        if (cmd.getLong(wrPosition + WR_ID) != wrId || cmd.getInt(wrPosition + OPCODE) != opcode) {
            throw new IllegalStateException("serialized request " + describe(cmd, wrPosition) + " at " + wrPosition
                    + " is not the expected wr_id=" + wrId + " opcode=" + opcode);
        }
    }

    /** Writes the atomic arm of the request at {@code wrPosition}: every field, so none is stale. */
    static void writeAtomic(ByteBuffer cmd, int wrPosition, long remoteAddress, long compareAdd, long swap, int rkey) {
        cmd.putLong(wrPosition + ATOMIC_REMOTE_ADDR, remoteAddress);
        cmd.putLong(wrPosition + ATOMIC_COMPARE_ADD, compareAdd);
        cmd.putLong(wrPosition + ATOMIC_SWAP, swap);
        cmd.putInt(wrPosition + ATOMIC_RKEY, rkey);
    }

    /** A one-line view of the request at {@code wrPosition}, read as an atomic, for diagnostics. */
    static String describe(ByteBuffer cmd, int wrPosition) {
        return "ibv_send_wr[wr_id=" + cmd.getLong(wrPosition + WR_ID)
                + ", opcode=" + cmd.getInt(wrPosition + OPCODE)
                + ", send_flags=" + cmd.getInt(wrPosition + SEND_FLAGS)
                + ", remote_addr=0x" + Long.toHexString(cmd.getLong(wrPosition + ATOMIC_REMOTE_ADDR))
                + ", compare_add=" + cmd.getLong(wrPosition + ATOMIC_COMPARE_ADD)
                + ", swap=" + cmd.getLong(wrPosition + ATOMIC_SWAP)
                + ", rkey=" + cmd.getInt(wrPosition + ATOMIC_RKEY) + "]";
    }
}
