package org.pdpm.rdma.disni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.pdpm.rdma.api.NodeInfo;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * The one message of connection set-up: right after a queue pair is established, the memory node
 * SENDs it and the client, which posted a RECV before connecting, learns the node's identity and
 * its region: id, size, rkey and the virtual address that RDMA requests must name.
 *
 * <pre>
 *   0       4         6              8           12       16              24               32
 *   +-------+---------+--------------+-----------+--------+---------------+----------------+-------------
 *   | magic | version | nodeIdLength | regionId  | rkey   | regionSize    | regionAddress  | nodeId
 *   | u32   | u16     | u16          | u32       | u32    | u64           | u64            | UTF-8, 64 B
 *   +-------+---------+--------------+-----------+--------+---------------+----------------+-------------
 * </pre>
 * Little-endian, {@value #BYTES} bytes, padded with zeros.
 */
record NodeHello(String nodeId, int regionId, long regionSizeBytes, int rkey, long regionAddress) {

    static final int MAGIC = 0x4d504470; // "pDPM" read as little-endian bytes
    static final short VERSION = 1;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int NODE_ID_LENGTH_OFFSET = 6;
    static final int REGION_ID_OFFSET = 8;
    static final int RKEY_OFFSET = 12;
    static final int REGION_SIZE_OFFSET = 16;
    static final int REGION_ADDRESS_OFFSET = 24;
    static final int NODE_ID_OFFSET = 32;
    static final int MAX_NODE_ID_BYTES = 64;
    static final int BYTES = NODE_ID_OFFSET + MAX_NODE_ID_BYTES;

    static {
        if (BYTES != 96 || (REGION_SIZE_OFFSET & 7) != 0 || (REGION_ADDRESS_OFFSET & 7) != 0) {
            throw new ExceptionInInitializerError("NodeHello layout constants are inconsistent");
        }
    }

    NodeHello {
        int idBytes = nodeId.getBytes(StandardCharsets.UTF_8).length;
        if (idBytes == 0 || idBytes > MAX_NODE_ID_BYTES) {
            throw new IllegalArgumentException("nodeId='" + nodeId + "' must have 1.." + MAX_NODE_ID_BYTES + " UTF-8 bytes");
        }
        if (regionSizeBytes <= 0) {
            throw new IllegalArgumentException("regionSizeBytes=" + regionSizeBytes + " must be positive");
        }
    }

    /** Writes the message at {@code buffer}'s index 0. */
    void encode(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
        b.putInt(MAGIC_OFFSET, MAGIC);
        b.putShort(VERSION_OFFSET, VERSION);
        b.putShort(NODE_ID_LENGTH_OFFSET, (short) id.length);
        b.putInt(REGION_ID_OFFSET, regionId);
        b.putInt(RKEY_OFFSET, rkey);
        b.putLong(REGION_SIZE_OFFSET, regionSizeBytes);
        b.putLong(REGION_ADDRESS_OFFSET, regionAddress);
        b.put(NODE_ID_OFFSET, new byte[MAX_NODE_ID_BYTES]);
        b.put(NODE_ID_OFFSET, id);
    }

    /** Reads a message from {@code buffer}'s index 0; {@link IllegalArgumentException} when it is not one. */
    static NodeHello decode(ByteBuffer buffer, int receivedBytes) {
        if (receivedBytes != BYTES) {
            throw new IllegalArgumentException("hello of " + receivedBytes + " bytes, expected " + BYTES);
        }
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(MAGIC_OFFSET);
        short version = b.getShort(VERSION_OFFSET);
        if (magic != MAGIC || version != VERSION) {
            throw new IllegalArgumentException("hello magic=0x" + Integer.toHexString(magic) + " version=" + version
                    + " is not a pDPM memory node of version " + VERSION);
        }
        int idLength = Short.toUnsignedInt(b.getShort(NODE_ID_LENGTH_OFFSET));
        if (idLength == 0 || idLength > MAX_NODE_ID_BYTES) {
            throw new IllegalArgumentException("hello nodeIdLength=" + idLength + " outside 1.." + MAX_NODE_ID_BYTES);
        }
        byte[] id = new byte[idLength];
        b.get(NODE_ID_OFFSET, id);
        return new NodeHello(new String(id, StandardCharsets.UTF_8), b.getInt(REGION_ID_OFFSET),
                b.getLong(REGION_SIZE_OFFSET), b.getInt(RKEY_OFFSET), b.getLong(REGION_ADDRESS_OFFSET));
    }

    NodeInfo info() {
        return new NodeInfo(nodeId, List.of(new RemoteRegion(regionId, regionSizeBytes, rkey)));
    }

    @Override
    public String toString() {
        return "NodeHello[nodeId=" + nodeId + ", regionId=" + regionId + ", regionSizeBytes=" + regionSizeBytes
                + ", rkey=" + rkey + ", regionAddress=0x" + Long.toHexString(regionAddress) + "]";
    }
}
