package org.pdpm.rdma.tcp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.pdpm.rdma.memory.RegionMemory;

/**
 * A growable little-endian byte array for building frames, and static readers for parsing them.
 * One instance is reused per connection, so steady-state encoding allocates nothing.
 */
final class FrameBuffer {

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] bytes;
    private int length;

    FrameBuffer(int initialCapacity) {
        bytes = new byte[initialCapacity];
    }

    byte[] array() {
        return bytes;
    }

    int length() {
        return length;
    }

    void clear() {
        length = 0;
    }

    /** Reserves a 4-byte length prefix and returns its position, for {@link #endFrame}. */
    int beginFrame() {
        int at = length;
        putInt(0);
        return at;
    }

    void endFrame(int frameStart) {
        INT.set(bytes, frameStart, length - frameStart - WireLayout.LENGTH_PREFIX_BYTES);
    }

    void putByte(int v) {
        ensure(1);
        bytes[length++] = (byte) v;
    }

    void putShort(int v) {
        ensure(2);
        SHORT.set(bytes, length, (short) v);
        length += 2;
    }

    void putInt(int v) {
        ensure(4);
        INT.set(bytes, length, v);
        length += 4;
    }

    void putLong(long v) {
        ensure(8);
        LONG.set(bytes, length, v);
        length += 8;
    }

    void putBytes(byte[] src, int offset, int count) {
        ensure(count);
        System.arraycopy(src, offset, bytes, length, count);
        length += count;
    }

    /** {@code count} bytes at {@code offset} of {@code memory}, copied in place. */
    void putRead(RegionMemory memory, long offset, int count) {
        ensure(count);
        memory.read(offset, bytes, length, count);
        length += count;
    }

    /** Drops everything after the first {@code newLength} bytes. */
    void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " bytes to " + newLength);
        }
        length = newLength;
    }

    /** u16 length then UTF-8, cut to {@code maxBytes}. */
    void putText(String text, int maxBytes) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(utf8.length, maxBytes);
        putShort(n);
        putBytes(utf8, 0, n);
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    static int getUnsignedShort(byte[] b, int at) {
        return Short.toUnsignedInt((short) SHORT.get(b, at));
    }

    static int getInt(byte[] b, int at) {
        return (int) INT.get(b, at);
    }

    static long getLong(byte[] b, int at) {
        return (long) LONG.get(b, at);
    }
}
