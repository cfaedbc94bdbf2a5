package org.pdpm.rdma.tcp;

import java.io.IOException;
import java.util.Arrays;

/**
 * Cuts a byte stream into frames. Reads as much as the socket has in one call, so many small
 * frames that arrived together are handed out without further system calls — the receive side of
 * the tcp fabric's coalescing. A body stays valid until the next {@link #fill()}.
 */
final class FrameReader {

    private final ByteSource in;
    private final int maxBodyBytes;
    private final long pollNanos;
    private byte[] buf;
    private int start;
    private int end;
    private int bodyOffset;
    private int bodyLength;

    /** @param pollNanos how long {@link #fillPolling()} polls before blocking; 0 never polls */
    FrameReader(ByteSource in, int initialCapacity, int maxBodyBytes, long pollNanos) {
        this.in = in;
        this.pollNanos = pollNanos;
        this.buf = new byte[initialCapacity];
        this.maxBodyBytes = maxBodyBytes;
    }

    /** True when a whole frame is buffered: its body is then at {@link #bodyOffset()}. */
    boolean nextBuffered() throws MalformedFrameException {
        int available = end - start;
        if (available < WireLayout.LENGTH_PREFIX_BYTES) {
            return false;
        }
        int length = FrameBuffer.getInt(buf, start);
        if (length < 1 || length > maxBodyBytes) {
            throw new MalformedFrameException("frame body length " + Integer.toUnsignedString(length)
                    + " outside 1.." + maxBodyBytes);
        }
        if (available - WireLayout.LENGTH_PREFIX_BYTES < length) {
            return false;
        }
        bodyOffset = start + WireLayout.LENGTH_PREFIX_BYTES;
        bodyLength = length;
        start = bodyOffset + length;
        return true;
    }

    /**
     * Polls the socket for bytes for up to the poll window first, and only then blocks in the
     * kernel. A thread that has just been busy is likely to be answered within microseconds;
     * blocking would let its CPU go idle, and waking an idle virtual CPU costs far more than the
     * answer took.
     */
    boolean fillPolling() throws IOException {
        if (pollNanos > 0) {
            long deadline = System.nanoTime() + pollNanos;
            do {
                int n = readNow();
                if (n != 0) {
                    return n > 0;
                }
                Thread.yield();
            } while (System.nanoTime() - deadline < 0);
        }
        return fill();
    }

    /** Reads what the socket already holds, never blocking; false when it holds nothing. */
    boolean fillIfReady() throws IOException {
        return readNow() > 0;
    }

    /** Blocks until more bytes arrive; false at the end of the stream. */
    boolean fill() throws IOException {
        makeRoom();
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            return false;
        }
        end += n;
        return true;
    }

    /** Bytes read without blocking: 0 when none had arrived, -1 at the end of the stream. */
    private int readNow() throws IOException {
        makeRoom();
        int n = in.readNow(buf, end, buf.length - end);
        if (n > 0) {
            end += n;
        }
        return n;
    }

    private void makeRoom() {
        if (start == end) {
            start = 0;
            end = 0;
        } else if (end == buf.length) {
            if (start > 0) {
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buf.length) {
                // A frame larger than the buffer: grow to what its prefix announces (bounded above).
                int need = end >= WireLayout.LENGTH_PREFIX_BYTES
                        ? WireLayout.LENGTH_PREFIX_BYTES + Math.min(FrameBuffer.getInt(buf, 0), maxBodyBytes)
                        : buf.length * 2;
                buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
            }
        }
    }

    byte[] buffer() {
        return buf;
    }

    int bodyOffset() {
        return bodyOffset;
    }

    int bodyLength() {
        return bodyLength;
    }

    /** Bytes received but not yet handed out as a whole frame. */
    int pendingBytes() {
        return end - start;
    }
}
