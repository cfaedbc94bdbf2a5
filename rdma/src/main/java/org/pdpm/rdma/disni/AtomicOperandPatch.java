package org.pdpm.rdma.disni;

import com.ibm.disni.util.MemBuf;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import com.ibm.disni.verbs.impl.NatPostSendCall;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Repairs DiSNI 2.1's serialized post before its doorbell: copies each atomic's operands into the
 * native {@code ibv_send_wr} (see {@link IbvSendWrLayout}). DiSNI keeps the native command buffer
 * in a private field of {@code NatPostSendCall}; it is read reflectively because DiSNI offers no
 * way to write {@code swap} or the atomic {@code rkey}. The field and DiSNI's serializer constants
 * are checked once, when the first connection opens, so a different DiSNI build fails there with
 * UNAVAILABLE instead of ever posting an atomic with wrong operands.
 */
final class AtomicOperandPatch {

    private static final Field COMMAND;

    static {
        Field f;
        try {
            f = NatPostSendCall.class.getDeclaredField("cmd");
            if (f.getType() != MemBuf.class) {
                f = null;
            } else {
                f.setAccessible(true);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            f = null;
        }
        COMMAND = f;
    }

    private AtomicOperandPatch() {}

    /** Null when this DiSNI build is the one the patch was written for, else why it is not. */
    static String incompatibility() {
        if (COMMAND == null) {
            return "com.ibm.disni.verbs.impl.NatPostSendCall has no MemBuf field 'cmd'";
        }
        if (NatIbvSendWR.CSIZE != IbvSendWrLayout.DISNI_WR_STRIDE
                || NatIbvSendWR.REMOTEADDR_OFFSET != IbvSendWrLayout.RDMA_REMOTE_ADDR
                || NatIbvSendWR.RKEY_OFFSET != IbvSendWrLayout.RDMA_RKEY
                || NatIbvSendWR.WRID_OFFSET != IbvSendWrLayout.WR_ID
                || NatIbvSendWR.SENDFLAGS_OFFSET != IbvSendWrLayout.SEND_FLAGS) {
            return "DiSNI's NatIbvSendWR layout (CSIZE=" + NatIbvSendWR.CSIZE + ") is not the DiSNI 2.1 layout";
        }
        return null;
    }

    /** Writes the atomic arm of every atomic request of {@code requests}, serialized by {@code post}. */
    static void apply(SVCPostSend post, List<IbvSendWR> requests) throws IOException {
        ByteBuffer cmd = null;
        for (int k = 0; k < requests.size(); k++) {
            IbvSendWR wr = requests.get(k);
            int opcode = wr.getOpcode();
            if (opcode != IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP && opcode != IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD) {
                continue;
            }
            if (cmd == null) {
                cmd = commandBuffer(post);
            }
            int position = ((NatIbvSendWR) post.getWrMod(k)).getBufPosition();
            IbvSendWrLayout.checkSerialized(cmd, position, wr.getWr_id(), opcode);
            IbvSendWR.Atomic a = wr.getAtomic();
            IbvSendWrLayout.writeAtomic(cmd, position, a.getRemote_addr(), a.getCompare_add(), a.getSwap(), a.getRkey());
        }
    }

    /** DiSNI's native command buffer behind {@code post}: the memory ibv_post_send reads. */
    static ByteBuffer commandBuffer(SVCPostSend post) {
        try {
            return ((MemBuf) COMMAND.get(post)).getBuffer();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot reach DiSNI's command buffer", e);
        }
    }
}
