package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.api.RemoteRegion;

class NodeHelloTest {

    @Test
    void roundTripsAndDescribesTheNode() {
        NodeHello hello = new NodeHello("node-7f3a", 0, 16L << 20, 0xdeadbeef, 0x7fff_1234_5000L);
        ByteBuffer b = ByteBuffer.allocateDirect(NodeHello.BYTES);
        hello.encode(b);
        NodeHello back = NodeHello.decode(b, NodeHello.BYTES);
        assertThat(back).isEqualTo(hello);
        assertThat(back.info().nodeId()).isEqualTo("node-7f3a");
        assertThat(back.info().firstRegion()).isEqualTo(new RemoteRegion(0, 16L << 20, 0xdeadbeef));
        assertThat(back.toString()).contains("regionAddress=0x7fff12345000");
    }

    @Test
    void layoutIsLittleEndianAtTheDocumentedOffsets() {
        ByteBuffer b = ByteBuffer.allocate(NodeHello.BYTES);
        new NodeHello("ab", 3, 4096, 9, 0x1000).encode(b);
        b.order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.get(0)).isEqualTo((byte) 'p');
        assertThat(b.get(1)).isEqualTo((byte) 'D');
        assertThat(b.getShort(NodeHello.VERSION_OFFSET)).isEqualTo(NodeHello.VERSION);
        assertThat(b.getShort(NodeHello.NODE_ID_LENGTH_OFFSET)).isEqualTo((short) 2);
        assertThat(b.getInt(NodeHello.REGION_ID_OFFSET)).isEqualTo(3);
        assertThat(b.getInt(NodeHello.RKEY_OFFSET)).isEqualTo(9);
        assertThat(b.getLong(NodeHello.REGION_SIZE_OFFSET)).isEqualTo(4096);
        assertThat(b.getLong(NodeHello.REGION_ADDRESS_OFFSET)).isEqualTo(0x1000);
        assertThat(b.get(NodeHello.NODE_ID_OFFSET + 1)).isEqualTo((byte) 'b');
        assertThat(b.get(NodeHello.NODE_ID_OFFSET + 2)).isZero();
    }

    @Test
    void nodeIdsUpToTheLimitFitAndLongerOnesAreRefused() {
        String longest = "n".repeat(NodeHello.MAX_NODE_ID_BYTES);
        ByteBuffer b = ByteBuffer.allocate(NodeHello.BYTES);
        new NodeHello(longest, 0, 1, 0, 0).encode(b);
        assertThat(NodeHello.decode(b, NodeHello.BYTES).nodeId()).isEqualTo(longest);
        assertThatThrownBy(() -> new NodeHello(longest + "n", 0, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nodeId");
        assertThatThrownBy(() -> new NodeHello("", 0, 1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anythingElseIsRefused() {
        ByteBuffer b = ByteBuffer.allocate(NodeHello.BYTES);
        new NodeHello("x", 0, 1, 0, 0).encode(b);
        assertThatThrownBy(() -> NodeHello.decode(b, NodeHello.BYTES - 1)).hasMessageContaining("bytes");
        b.put(0, (byte) 'X');
        assertThatThrownBy(() -> NodeHello.decode(b, NodeHello.BYTES)).hasMessageContaining("magic");
        b.put(0, (byte) 'p');
        b.order(ByteOrder.LITTLE_ENDIAN).putShort(NodeHello.NODE_ID_LENGTH_OFFSET, (short) (NodeHello.MAX_NODE_ID_BYTES + 1));
        assertThatThrownBy(() -> NodeHello.decode(b, NodeHello.BYTES)).hasMessageContaining("nodeIdLength");
    }
}
