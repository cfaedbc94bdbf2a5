package org.pdpm.flink.snapshot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.runtime.state.KeyGroupRange;

/**
 * What a pdpm checkpoint records besides Flink's own state meta data: the pool, the job that took
 * it, and per key-group range the pinned point that holds its state. A few dozen bytes per range,
 * whatever the state's size.
 *
 * @param metaInfo the state meta data as Flink's {@code KeyedBackendSerializationProxy} writes it
 */
public record CheckpointMeta(String pool, String jobId, List<PinnedRange> ranges, byte[] metaInfo) {

    /** 'pDPM' then a format version: tells our handles from other backends' incremental ones. */
    static final int MAGIC = 0x7044504D;
    static final int VERSION = 1;

    /** Key groups {@code range}, whose keys start with {@code root}, as {@code (lineage, epoch)} sees them. */
    public record PinnedRange(KeyGroupRange range, int root, int lineage, long epoch, String owner) {
        public PinPath path(String pool) {
            return new PinPath(pool, lineage, epoch, owner);
        }
    }

    public CheckpointMeta {
        ranges = List.copyOf(ranges);
    }

    public byte[] toBytes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128 + metaInfo.length);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(pool);
        out.writeUTF(jobId);
        out.writeInt(ranges.size());
        for (PinnedRange r : ranges) {
            out.writeInt(r.range().getStartKeyGroup());
            out.writeInt(r.range().getEndKeyGroup());
            out.writeInt(r.root());
            out.writeInt(r.lineage());
            out.writeLong(r.epoch());
            out.writeUTF(r.owner());
        }
        out.writeInt(metaInfo.length);
        out.write(metaInfo);
        out.flush();
        return bytes.toByteArray();
    }

    /** True when {@code head} (at least 8 bytes) starts a pdpm checkpoint's meta data. */
    public static boolean isOurs(byte[] head) {
        return head.length >= 8 && readInt(head, 0) == MAGIC;
    }

    public static CheckpointMeta read(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException("not a pdpm checkpoint (magic " + Integer.toHexString(magic) + ")");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException("pdpm checkpoint format " + version + " is not one this backend reads (it reads "
                    + VERSION + ")");
        }
        String pool = in.readUTF();
        String job = in.readUTF();
        int n = in.readInt();
        if (n < 0 || n > 1 << 16) {
            throw new IOException("corrupt pdpm checkpoint: " + n + " key-group ranges");
        }
        List<PinnedRange> ranges = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            KeyGroupRange range = new KeyGroupRange(in.readInt(), in.readInt());
            ranges.add(new PinnedRange(range, in.readInt(), in.readInt(), in.readLong(), in.readUTF()));
        }
        int length = in.readInt();
        if (length < 0 || length > 64 << 20) {
            throw new IOException("corrupt pdpm checkpoint: " + length + " bytes of state meta data");
        }
        byte[] metaInfo = in.readNBytes(length);
        if (metaInfo.length != length) {
            throw new IOException("truncated pdpm checkpoint: " + metaInfo.length + " of " + length + " meta data bytes");
        }
        return new CheckpointMeta(pool, job, ranges, metaInfo);
    }

    public static CheckpointMeta read(byte[] bytes) throws IOException {
        return read(new ByteArrayInputStream(bytes));
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CheckpointMeta m && pool.equals(m.pool) && jobId.equals(m.jobId) && ranges.equals(m.ranges)
                && Arrays.equals(metaInfo, m.metaInfo);
    }

    @Override
    public int hashCode() {
        return pool.hashCode() * 31 + ranges.hashCode();
    }
}
