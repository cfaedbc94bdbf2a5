package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.disni.util.MemoryAllocation;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatPostSendCall;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * The native layout we write atomics into, checked three ways: against the offsets of rdma-core's
 * {@code struct ibv_send_wr} on x86_64 Linux, against the header itself (compiled with gcc where
 * libibverbs-dev is installed), and byte by byte in a real DiSNI 2.1 command buffer serialized by
 * DiSNI's own {@code NatPostSendCall}, before and after the repair.
 */
class IbvSendWrLayoutTest {

    private static final RemoteRegion REGION = new RemoteRegion(0, 1 << 20, 0x1234abcd);
    private static final long REGION_ADDRESS = 0x7f00_0010_0000L;

    @Test
    void offsetsAreThoseOfStructIbvSendWrOnX8664Linux() {
        assertThat(IbvSendWrLayout.WR_ID).isEqualTo(0);
        assertThat(IbvSendWrLayout.NEXT).isEqualTo(8);
        assertThat(IbvSendWrLayout.SG_LIST).isEqualTo(16);
        assertThat(IbvSendWrLayout.NUM_SGE).isEqualTo(24);
        assertThat(IbvSendWrLayout.OPCODE).isEqualTo(28);
        assertThat(IbvSendWrLayout.SEND_FLAGS).isEqualTo(32);
        assertThat(IbvSendWrLayout.IMM_DATA).isEqualTo(36);
        assertThat(IbvSendWrLayout.RDMA_REMOTE_ADDR).isEqualTo(40);
        assertThat(IbvSendWrLayout.RDMA_RKEY).isEqualTo(48);
        assertThat(IbvSendWrLayout.ATOMIC_REMOTE_ADDR).isEqualTo(40);
        assertThat(IbvSendWrLayout.ATOMIC_COMPARE_ADD).isEqualTo(48);
        assertThat(IbvSendWrLayout.ATOMIC_SWAP).isEqualTo(56);
        assertThat(IbvSendWrLayout.ATOMIC_RKEY).isEqualTo(64);
        assertThat(IbvSendWrLayout.ATOMIC_END).isLessThanOrEqualTo(IbvSendWrLayout.DISNI_WR_STRIDE);
    }

    @Test
    void offsetsMatchTheVerbsHeaderCompiledWithGcc(@TempDir Path dir) throws Exception {
        Path header = Path.of("/usr/include/infiniband/verbs.h");
        if (!Files.isRegularFile(header)) {
            abort(header + " is absent: install the Debian package libibverbs-dev to compare the layout with rdma-core's");
        }
        Path source = dir.resolve("offsets.c");
        Files.writeString(source, """
                #include <stddef.h>
                #include <stdio.h>
                #include <infiniband/verbs.h>
                #define P(name, field) printf("%s %zu\\n", name, offsetof(struct ibv_send_wr, field))
                int main(void) {
                    P("wr_id", wr_id); P("next", next); P("sg_list", sg_list); P("num_sge", num_sge);
                    P("opcode", opcode); P("send_flags", send_flags); P("imm_data", imm_data);
                    P("rdma.remote_addr", wr.rdma.remote_addr); P("rdma.rkey", wr.rdma.rkey);
                    P("atomic.remote_addr", wr.atomic.remote_addr); P("atomic.compare_add", wr.atomic.compare_add);
                    P("atomic.swap", wr.atomic.swap); P("atomic.rkey", wr.atomic.rkey);
                    printf("sizeof %zu\\n", sizeof(struct ibv_send_wr));
                    printf("IBV_WR_RDMA_WRITE %d\\nIBV_WR_RDMA_READ %d\\n", IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ);
                    printf("IBV_WR_ATOMIC_CMP_AND_SWP %d\\nIBV_WR_ATOMIC_FETCH_AND_ADD %d\\n",
                           IBV_WR_ATOMIC_CMP_AND_SWP, IBV_WR_ATOMIC_FETCH_AND_ADD);
                    printf("IBV_SEND_FENCE %d\\nIBV_SEND_SIGNALED %d\\n", IBV_SEND_FENCE, IBV_SEND_SIGNALED);
                    printf("IBV_ACCESS_REMOTE_ATOMIC %d\\n", IBV_ACCESS_REMOTE_ATOMIC);
                    return 0;
                }
                """);
        Path binary = dir.resolve("offsets");
        String compiled = run(List.of("gcc", "-o", binary.toString(), source.toString()));
        assumeTrue(Files.isExecutable(binary), () -> "gcc could not compile against " + header + ": " + compiled);
        Map<String, Long> c = new HashMap<>();
        for (String line : run(List.of(binary.toString())).split("\n")) {
            String[] kv = line.trim().split(" ");
            c.put(kv[0], Long.parseLong(kv[1]));
        }
        assertThat(c).containsEntry("wr_id", (long) IbvSendWrLayout.WR_ID)
                .containsEntry("next", (long) IbvSendWrLayout.NEXT)
                .containsEntry("sg_list", (long) IbvSendWrLayout.SG_LIST)
                .containsEntry("num_sge", (long) IbvSendWrLayout.NUM_SGE)
                .containsEntry("opcode", (long) IbvSendWrLayout.OPCODE)
                .containsEntry("send_flags", (long) IbvSendWrLayout.SEND_FLAGS)
                .containsEntry("imm_data", (long) IbvSendWrLayout.IMM_DATA)
                .containsEntry("rdma.remote_addr", (long) IbvSendWrLayout.RDMA_REMOTE_ADDR)
                .containsEntry("rdma.rkey", (long) IbvSendWrLayout.RDMA_RKEY)
                .containsEntry("atomic.remote_addr", (long) IbvSendWrLayout.ATOMIC_REMOTE_ADDR)
                .containsEntry("atomic.compare_add", (long) IbvSendWrLayout.ATOMIC_COMPARE_ADD)
                .containsEntry("atomic.swap", (long) IbvSendWrLayout.ATOMIC_SWAP)
                .containsEntry("atomic.rkey", (long) IbvSendWrLayout.ATOMIC_RKEY)
                // DiSNI's constants are the C enum values we rely on.
                .containsEntry("IBV_WR_RDMA_WRITE", (long) IbvSendWR.IBV_WR_RDMA_WRITE)
                .containsEntry("IBV_WR_RDMA_READ", (long) IbvSendWR.IBV_WR_RDMA_READ)
                .containsEntry("IBV_WR_ATOMIC_CMP_AND_SWP", (long) IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP)
                .containsEntry("IBV_WR_ATOMIC_FETCH_AND_ADD", (long) IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD)
                .containsEntry("IBV_SEND_FENCE", (long) IbvSendWR.IBV_SEND_FENCE)
                .containsEntry("IBV_SEND_SIGNALED", (long) IbvSendWR.IBV_SEND_SIGNALED)
                .containsEntry("IBV_ACCESS_REMOTE_ATOMIC", (long) com.ibm.disni.verbs.IbvMr.IBV_ACCESS_REMOTE_ATOMIC);
        // The real struct is longer than DiSNI's stride; the atomic arm still ends inside it.
        assertThat(c.get("sizeof")).isGreaterThanOrEqualTo((long) IbvSendWrLayout.ATOMIC_END);
    }

    @Test
    void theDisniOnTheClassPathIsTheOneThePatchIsFor() {
        assertThat(AtomicOperandPatch.incompatibility()).isNull();
    }

    @Test
    void writeAtomicPutsEachOperandAtItsOffsetInHostOrder() {
        ByteBuffer cmd = ByteBuffer.allocateDirect(3 * IbvSendWrLayout.DISNI_WR_STRIDE).order(ByteOrder.nativeOrder());
        fill(cmd, (byte) 0xAB);
        int wr = IbvSendWrLayout.DISNI_WR_STRIDE; // the second request of a chain
        IbvSendWrLayout.writeAtomic(cmd, wr, 0x0102030405060708L, 0x1112131415161718L, 0x2122232425262728L, 0x31323334);
        byte[] raw = new byte[cmd.capacity()];
        cmd.get(0, raw);
        assertThat(cmd.getLong(wr + 40)).isEqualTo(0x0102030405060708L);
        assertThat(cmd.getLong(wr + 48)).isEqualTo(0x1112131415161718L);
        assertThat(cmd.getLong(wr + 56)).isEqualTo(0x2122232425262728L);
        assertThat(cmd.getInt(wr + 64)).isEqualTo(0x31323334);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            assertThat(slice(raw, wr + 40, 8)).containsExactly(8, 7, 6, 5, 4, 3, 2, 1);
            assertThat(slice(raw, wr + 48, 8)).containsExactly(0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11);
            assertThat(slice(raw, wr + 56, 8)).containsExactly(0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21);
            assertThat(slice(raw, wr + 64, 4)).containsExactly(0x34, 0x33, 0x32, 0x31);
        }
        // Nothing outside the atomic arm of that one request changes.
        for (int i = 0; i < raw.length; i++) {
            if (i < wr + 40 || i >= wr + IbvSendWrLayout.ATOMIC_END) {
                assertThat(raw[i]).as("byte %d", i).isEqualTo((byte) 0xAB);
            }
        }
    }

    @Test
    void disniDropsAtomicOperandsAndThePatchPutsThemIntoItsCommandBuffer() throws IOException {
        long expected = 0x0A0B0C0D0E0F1011L;
        long desired = -2L;
        long delta = 0x00000001_00000001L;
        Batch batch = new Batch();
        batch.write(REGION, 0, new byte[16]);
        int cas = batch.compareAndSwap(REGION, 64, expected, desired);
        batch.read(REGION, 128, 8);
        int faa = batch.fetchAndAdd(REGION, 4096, delta);
        SendChain chain = SendChain.build(batch, 7, REGION_ADDRESS, REGION.rkey(), staging(), 0, 0x5000_0000L, 99, false);
        List<IbvSendWR> wrs = chain.requests();
        int size = wrs.size() * IbvSendWrLayout.DISNI_WR_STRIDE + wrs.size() * 16;

        // Leave garbage in DiSNI's buffer pool, as an earlier post would, so the next post reuses it.
        SVCPostSend earlier = new NatPostSendCall(null, null, MemoryAllocation.getInstance(), null, wrs);
        fill(AtomicOperandPatch.commandBuffer(earlier), (byte) 0xEE);
        earlier.free();

        SVCPostSend post = new NatPostSendCall(null, null, MemoryAllocation.getInstance(), null, wrs);
        try {
            ByteBuffer cmd = AtomicOperandPatch.commandBuffer(post);
            assertThat(cmd.isDirect()).isTrue();
            assertThat(cmd.capacity()).isGreaterThanOrEqualTo(size);
            int casAt = IbvSendWrLayout.DISNI_WR_STRIDE;
            int faaAt = 3 * IbvSendWrLayout.DISNI_WR_STRIDE;
            // The trap: DiSNI wrote the rdma arm, so compare_add holds the rkey, and swap and the atomic
            // rkey are whatever the pool held.
            assertThat(cmd.getInt(casAt + IbvSendWrLayout.OPCODE)).isEqualTo(IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP);
            assertThat(cmd.getLong(casAt + IbvSendWrLayout.ATOMIC_COMPARE_ADD)).isNotEqualTo(expected);
            assertThat(cmd.getLong(casAt + IbvSendWrLayout.ATOMIC_SWAP)).isEqualTo(0xEEEEEEEEEEEEEEEEL);
            assertThat(cmd.getInt(casAt + IbvSendWrLayout.ATOMIC_RKEY)).isEqualTo(0xEEEEEEEE);

            AtomicOperandPatch.apply(post, wrs);

            assertAtomic(cmd, casAt, SendChain.wrId(7, cas), IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP,
                    REGION_ADDRESS + 64, expected, desired);
            assertAtomic(cmd, faaAt, SendChain.wrId(7, faa), IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD,
                    REGION_ADDRESS + 4096, delta, 0);
            // The READ between them is left as DiSNI wrote it.
            int readAt = 2 * IbvSendWrLayout.DISNI_WR_STRIDE;
            assertThat(cmd.getLong(readAt + IbvSendWrLayout.RDMA_REMOTE_ADDR)).isEqualTo(REGION_ADDRESS + 128);
            assertThat(cmd.getInt(readAt + IbvSendWrLayout.RDMA_RKEY)).isEqualTo(REGION.rkey());
            assertThat(cmd.getLong(readAt + IbvSendWrLayout.ATOMIC_SWAP)).isEqualTo(0xEEEEEEEEEEEEEEEEL);
        } finally {
            post.free();
        }
    }

    @Test
    void aRequestThatIsNotTheExpectedOneIsNeverPatched() {
        ByteBuffer cmd = ByteBuffer.allocateDirect(IbvSendWrLayout.DISNI_WR_STRIDE).order(ByteOrder.nativeOrder());
        cmd.putLong(IbvSendWrLayout.WR_ID, 42);
        cmd.putInt(IbvSendWrLayout.OPCODE, IbvSendWR.IBV_WR_RDMA_READ);
        assertThatThrownBy(() -> IbvSendWrLayout.checkSerialized(cmd, 0, 42, IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("opcode=4");
        assertThatThrownBy(() -> IbvSendWrLayout.checkSerialized(cmd, 8, 42, IbvSendWR.IBV_WR_RDMA_READ))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("wrPosition=8");
        ByteBuffer bigEndian = ByteBuffer.allocateDirect(IbvSendWrLayout.DISNI_WR_STRIDE).order(
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        assertThatThrownBy(() -> IbvSendWrLayout.checkSerialized(bigEndian, 0, 0, 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("order");
        IbvSendWrLayout.checkSerialized(cmd, 0, 42, IbvSendWR.IBV_WR_RDMA_READ);
    }

    private static void assertAtomic(ByteBuffer cmd, int at, long wrId, int opcode, long remote, long compareAdd, long swap) {
        assertThat(cmd.getLong(at + IbvSendWrLayout.WR_ID)).isEqualTo(wrId);
        assertThat(cmd.getInt(at + IbvSendWrLayout.OPCODE)).isEqualTo(opcode);
        assertThat(cmd.getLong(at + IbvSendWrLayout.ATOMIC_REMOTE_ADDR)).isEqualTo(remote);
        assertThat(cmd.getLong(at + IbvSendWrLayout.ATOMIC_COMPARE_ADD)).isEqualTo(compareAdd);
        assertThat(cmd.getLong(at + IbvSendWrLayout.ATOMIC_SWAP)).isEqualTo(swap);
        assertThat(cmd.getInt(at + IbvSendWrLayout.ATOMIC_RKEY)).isEqualTo(REGION.rkey());
    }

    private static ByteBuffer staging() {
        return ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
    }

    private static void fill(ByteBuffer b, byte value) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, value);
        }
    }

    private static byte[] slice(byte[] raw, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(raw, from, out, 0, length);
        return out;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }
}
