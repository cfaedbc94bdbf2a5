package org.pdpm.rdma.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.RemoteRegion;
import org.pdpm.rdma.memory.ChunkedRegionMemory;
import org.pdpm.rdma.memory.NodeMemory;
import org.pdpm.rdma.memory.VerbExecutor;

/** The node answers straight into its outgoing frame; what it sends must be what the executor computes. */
class BatchCodecTest {

    private static final int SIZE = 4096;

    /** A node whose region holds the bytes 0, 1, 2, … (mod 256). */
    private static VerbExecutor node(String id) {
        NodeMemory node = new NodeMemory(id, false);
        ChunkedRegionMemory memory = ChunkedRegionMemory.allocateDirect(SIZE);
        byte[] pattern = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            pattern[i] = (byte) i;
        }
        memory.write(0, pattern, 0, SIZE);
        node.register(memory);
        return new VerbExecutor(node);
    }

    private static Batch mixedBatch(RemoteRegion region) {
        Batch b = new Batch();
        b.read(region, 3, 17);
        b.compareAndSwap(region, 64, 0, 42);
        b.write(region, 200, new byte[] {9, 9, 9}, 0, 3);
        b.fetchAndAdd(region, 72, 5);
        b.read(region, 198, 8);    // sees the WRITE before it
        b.flush(region, 0, SIZE);
        b.read(region, 1000, 1032);
        return b;
    }

    @Test
    void aDoneFrameBuiltWhileExecutingDecodesToWhatTheExecutorReturns() throws Exception {
        VerbExecutor streamed = node("a");
        VerbExecutor collected = node("b");
        RemoteRegion region = streamed.node().info().firstRegion();
        Batch batch = mixedBatch(region);

        FrameBuffer out = new FrameBuffer(16);   // small, so the frame grows while READs land in it
        BatchCodec.executeIntoDone(batch, streamed, out);
        BatchResult expected = collected.execute(mixedBatch(collected.node().info().firstRegion()));

        assertThat(FrameBuffer.getInt(out.array(), 0)).isEqualTo(out.length() - WireLayout.LENGTH_PREFIX_BYTES);
        BatchResult sent = (BatchResult) BatchCodec.decodeCompletion(out.array(), WireLayout.LENGTH_PREFIX_BYTES,
                out.length() - WireLayout.LENGTH_PREFIX_BYTES, batch);
        for (int i : new int[] {0, 4, 6}) {
            assertThat(sent.bytes(i)).as("READ %d", i).isEqualTo(expected.bytes(i));
        }
        assertThat(sent.bytes(0)).isEqualTo(new byte[] {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
        assertThat(sent.bytes(4)).isEqualTo(new byte[] {(byte) 198, (byte) 199, 9, 9, 9, (byte) 203, (byte) 204, (byte) 205});
        for (int i : new int[] {1, 3}) {
            assertThat(sent.oldValue(i)).as("atomic %d", i).isEqualTo(expected.oldValue(i));
        }
    }

    @Test
    void aBatchTheNodeRefusesAppendsNothingToFramesAlreadyQueued() {
        VerbExecutor node = node("a");
        RemoteRegion region = node.node().info().firstRegion();
        FrameBuffer out = new FrameBuffer(64);
        Batch first = new Batch();
        first.read(region, 0, 4);
        BatchCodec.executeIntoDone(first, node, out);
        byte[] queued = Arrays.copyOf(out.array(), out.length());

        Batch refused = new Batch();
        refused.read(region, 0, 8);
        refused.read(new RemoteRegion(region.regionId(), region.sizeBytes(), region.rkey() + 1), 0, 8);
        assertThatThrownBy(() -> BatchCodec.executeIntoDone(refused, node, out))
                .isInstanceOf(FabricException.class).hasMessageContaining("rkey");

        assertThat(Arrays.copyOf(out.array(), out.length())).isEqualTo(queued);
    }
}
