package org.pdpm.core.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads one frame's body and hands out its fields in order, checking every read against the end
 * of the body, so a short or lying frame is a {@link MalformedFrameException}, never an index error
 * or a huge allocation. One instance is reused per connection.
 */
final class FrameCursor {

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[] prefix = new byte[MetadataRpcLayout.LENGTH_PREFIX_BYTES];
    private byte[] body = new byte[4096];
    private int at;
    private int end;

    /**
     * Blocks for the next frame, whose body may be at most {@code maxBodyBytes}; false when the
     * stream ended cleanly before a new frame began.
     */
    boolean read(InputStream in, int maxBodyBytes) throws IOException, MalformedFrameException {
        int first = in.read();
        if (first < 0) {
            return false;
        }
        prefix[0] = (byte) first;
        readFully(in, prefix, 1, prefix.length - 1);
        int length = (int) INT.get(prefix, 0);
        if (length < 1 || length > maxBodyBytes) {
            throw new MalformedFrameException("frame body length " + Integer.toUnsignedString(length) + " outside 1.."
                    + maxBodyBytes);
        }
        if (body.length < length) {
            body = new byte[Math.max(length, Math.min(body.length * 2, maxBodyBytes))];
        }
        readFully(in, body, 0, length);
        at = 0;
        end = length;
        return true;
    }

    private static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new EOFException("stream ended inside a frame");
            }
            off += n;
            len -= n;
        }
    }

    byte getByte() throws MalformedFrameException {
        need(1);
        return body[at++];
    }

    int getUnsignedShort() throws MalformedFrameException {
        need(2);
        int v = Short.toUnsignedInt((short) SHORT.get(body, at));
        at += 2;
        return v;
    }

    int getInt() throws MalformedFrameException {
        need(4);
        int v = (int) INT.get(body, at);
        at += 4;
        return v;
    }

    long getLong() throws MalformedFrameException {
        need(8);
        long v = (long) LONG.get(body, at);
        at += 8;
        return v;
    }

    /** A u16-length byte string; bounded by the frame, so at most 64 KiB. */
    byte[] getKey() throws MalformedFrameException {
        return getBytes(getUnsignedShort());
    }

    /** The next {@code n} bytes, {@code n} at most what the frame still holds. */
    byte[] getBytes(int n) throws MalformedFrameException {
        need(n);
        byte[] b = Arrays.copyOfRange(body, at, at + n);
        at += n;
        return b;
    }

    String getText() throws MalformedFrameException {
        return new String(getKey(), StandardCharsets.UTF_8);
    }

    /** The frame must have been read to its last byte. */
    void expectEnd() throws MalformedFrameException {
        if (at != end) {
            throw new MalformedFrameException((end - at) + " trailing bytes after the frame's last field");
        }
    }

    private void need(int n) throws MalformedFrameException {
        if (end - at < n) {
            throw new MalformedFrameException("frame ends " + (n - (end - at)) + " bytes short of its next field");
        }
    }
}
