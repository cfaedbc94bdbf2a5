package org.pdpm.rdma.sim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.RemoteRegion;

/** Little-endian 8-byte words, the unit the simulation tracks durability in. */
final class Words {

    private Words() {}

    static byte[] bytes(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    static byte[] bytes(long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    static long[] read(Connection c, RemoteRegion region, long offset, int words) {
        ByteBuffer b = ByteBuffer.wrap(c.read(region, offset, 8 * words)).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[words];
        for (int i = 0; i < words; i++) {
            out[i] = b.getLong();
        }
        return out;
    }

    static long read(Connection c, RemoteRegion region, long offset) {
        return read(c, region, offset, 1)[0];
    }
}
