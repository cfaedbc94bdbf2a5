package org.pdpm.core.rpc;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds one frame at a time in a growable little-endian array and writes it with one call. One
 * instance is reused per connection, so steady-state encoding allocates nothing.
 */
final class FrameWriter {

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] bytes = new byte[4096];
    private int length;

    /** Starts a frame of the given type; the length prefix is filled in by {@link #writeTo}. */
    FrameWriter begin(byte type) {
        length = MetadataRpcLayout.LENGTH_PREFIX_BYTES;
        return putByte(type);
    }

    FrameWriter putByte(int v) {
        ensure(1);
        bytes[length++] = (byte) v;
        return this;
    }

    FrameWriter putShort(int v) {
        ensure(2);
        SHORT.set(bytes, length, (short) v);
        length += 2;
        return this;
    }

    FrameWriter putInt(int v) {
        ensure(4);
        INT.set(bytes, length, v);
        length += 4;
        return this;
    }

    FrameWriter putLong(long v) {
        ensure(8);
        LONG.set(bytes, length, v);
        length += 8;
        return this;
    }

    /** u16 length then the bytes; the caller has checked the length against its bound. */
    FrameWriter putKey(byte[] key) {
        return putShort(key.length).putBytes(key);
    }

    /** The bytes alone; the caller has written their length. */
    FrameWriter putBytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    /** u16 length then UTF-8, cut to {@code maxBytes}. */
    FrameWriter putText(String text, int maxBytes) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        return putKey(utf8.length <= maxBytes ? utf8 : Arrays.copyOf(utf8, maxBytes));
    }

    /** Body bytes written so far (after the length prefix). */
    int bodyLength() {
        return length - MetadataRpcLayout.LENGTH_PREFIX_BYTES;
    }

    void writeTo(OutputStream out) throws IOException {
        INT.set(bytes, 0, bodyLength());
        out.write(bytes, 0, length);
        out.flush();
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
