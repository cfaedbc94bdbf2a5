package org.pdpm.rdma.memory;

/**
 * The bytes behind one region, as a memory node's "NIC" reaches them. Callers have already checked
 * bounds and alignment ({@link VerbExecutor}); implementations are thread-safe, and the two
 * atomics are atomic with respect to each other.
 */
public interface RegionMemory extends AutoCloseable {

    long sizeBytes();

    void read(long offset, byte[] target, int targetOffset, int length);

    void write(long offset, byte[] source, int sourceOffset, int length);

    /** Returns the word found; swaps iff it equals {@code expected}. Offset is 8-byte aligned. */
    long compareAndSwap(long offset, long expected, long desired);

    /** Returns the word found before adding. Offset is 8-byte aligned. */
    long fetchAndAdd(long offset, long delta);

    /** Makes earlier writes to the range durable (a no-op for volatile memory). */
    void flush(long offset, long length);

    @Override
    void close();
}
