package org.pdpm.rdma.disni;

/**
 * Hands out contiguous slices of a connection's registered staging buffer (READ targets, WRITE
 * sources, atomic results) to batches in posting order and takes them back in the same order,
 * which is the order completions arrive in. A slice never wraps: when the tail of the buffer is too
 * short, the slice starts again at 0 and the tail stays unused until the batches before it are done.
 * Not thread-safe: the connection calls it under its lock.
 */
final class StagingRing {

    private final int capacityBytes;
    /** Where the next slice starts. */
    private int head;
    /** Where the oldest live slice starts. */
    private int tail;
    /** Whether live slices continue at 0 after running to the end. */
    private boolean wrapped;
    /** While wrapped: live slices that lie before the wrap, near the end of the buffer. */
    private int beforeWrap;
    private int outstanding;

    StagingRing(int capacityBytes) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes=" + capacityBytes + " must be positive");
        }
        this.capacityBytes = capacityBytes;
    }

    int capacityBytes() {
        return capacityBytes;
    }

    /** The start of a free slice of {@code bytes}, or -1 when it does not fit until earlier slices return. */
    int reserve(int bytes) {
        if (bytes < 0 || bytes > capacityBytes) {
            throw new IllegalArgumentException("bytes=" + bytes + " outside 0.." + capacityBytes);
        }
        if (outstanding == 0) {
            head = 0;
            tail = 0;
            wrapped = false;
        }
        int start;
        if (!wrapped) {
            if (capacityBytes - head >= bytes) {
                start = head;
            } else if (tail >= bytes) {
                start = 0;
                wrapped = true;
                beforeWrap = outstanding;
            } else {
                return -1;
            }
        } else if (tail - head >= bytes) {
            start = head;
        } else {
            return -1;
        }
        head = start + bytes;
        outstanding++;
        return start;
    }

    /** Returns the oldest live slice, which started at {@code start} and holds {@code bytes}. */
    void release(int start, int bytes) {
        if (outstanding == 0) {
            throw new IllegalStateException("release(start=" + start + ") with no slice outstanding");
        }
        outstanding--;
        if (wrapped && --beforeWrap == 0) {
            // The last slice before the wrap is back, and with it the skipped end of the buffer.
            wrapped = false;
            tail = 0;
        } else {
            tail = start + bytes;
        }
    }

    int outstanding() {
        return outstanding;
    }
}
