package org.pdpm.rdma.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.util.function.Consumer;

/**
 * Region memory over equally sized direct or memory-mapped buffers: one Java buffer holds at most
 * 2 GiB, so larger regions are split into chunks. 8-byte atomics go through a
 * {@code byteBufferViewVarHandle}, which is atomic on direct and mapped buffers for aligned words.
 * The chunk size is a power of two and a multiple of 8, so an aligned word never straddles chunks.
 */
public final class ChunkedRegionMemory implements RegionMemory {

    private static final VarHandle LONGS =
            MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer[] chunks;
    private final int chunkShift;
    private final long chunkMask;
    private final long sizeBytes;
    private final Consumer<ByteBuffer[]> onClose;

    /**
     * @param chunks    buffers of {@code 1 << chunkShift} bytes each (the last may be shorter)
     * @param onClose   releases the buffers (unmaps, closes the file); may be null
     */
    public ChunkedRegionMemory(ByteBuffer[] chunks, int chunkShift, long sizeBytes, Consumer<ByteBuffer[]> onClose) {
        if (chunkShift < 3 || chunkShift > 30) {
            throw new IllegalArgumentException("chunkShift=" + chunkShift + " must be in 3..30");
        }
        this.chunks = chunks.clone();
        this.chunkShift = chunkShift;
        this.chunkMask = (1L << chunkShift) - 1;
        this.sizeBytes = sizeBytes;
        this.onClose = onClose;
        for (ByteBuffer b : this.chunks) {
            if (!b.isDirect()) {
                throw new IllegalArgumentException("region memory must be off-heap (direct or mapped)");
            }
            b.order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Off-heap volatile memory of {@code sizeBytes}, zeroed, in chunks of at most 1 GiB. */
    public static ChunkedRegionMemory allocateDirect(long sizeBytes) {
        int shift = chunkShiftFor(sizeBytes);
        long chunk = 1L << shift;
        int n = (int) ((sizeBytes + chunk - 1) / chunk);
        ByteBuffer[] bufs = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            bufs[i] = ByteBuffer.allocateDirect((int) Math.min(chunk, sizeBytes - i * chunk));
        }
        return new ChunkedRegionMemory(bufs, shift, sizeBytes, null);
    }

    /** Chunks of 1 GiB for large regions; one chunk (rounded up to a power of two) for small ones. */
    public static int chunkShiftFor(long sizeBytes) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("sizeBytes=" + sizeBytes + " must be positive");
        }
        int shift = 64 - Long.numberOfLeadingZeros(Math.max(8, sizeBytes - 1));
        return Math.min(30, Math.max(3, shift));
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public void read(long offset, byte[] target, int targetOffset, int length) {
        while (length > 0) {
            ByteBuffer chunk = chunks[(int) (offset >>> chunkShift)];
            int at = (int) (offset & chunkMask);
            int n = Math.min(length, chunk.capacity() - at);
            chunk.get(at, target, targetOffset, n);
            offset += n;
            targetOffset += n;
            length -= n;
        }
    }

    @Override
    public void write(long offset, byte[] source, int sourceOffset, int length) {
        while (length > 0) {
            ByteBuffer chunk = chunks[(int) (offset >>> chunkShift)];
            int at = (int) (offset & chunkMask);
            int n = Math.min(length, chunk.capacity() - at);
            chunk.put(at, source, sourceOffset, n);
            offset += n;
            sourceOffset += n;
            length -= n;
        }
    }

    @Override
    public long compareAndSwap(long offset, long expected, long desired) {
        return (long) LONGS.compareAndExchange(chunks[(int) (offset >>> chunkShift)], (int) (offset & chunkMask),
                expected, desired);
    }

    @Override
    public long fetchAndAdd(long offset, long delta) {
        return (long) LONGS.getAndAdd(chunks[(int) (offset >>> chunkShift)], (int) (offset & chunkMask), delta);
    }

    @Override
    public void flush(long offset, long length) {
        while (length > 0) {
            ByteBuffer chunk = chunks[(int) (offset >>> chunkShift)];
            int at = (int) (offset & chunkMask);
            int n = (int) Math.min(length, chunk.capacity() - at);
            if (chunk instanceof MappedByteBuffer mapped) {
                mapped.force(at, n);
            }
            offset += n;
            length -= n;
        }
    }

    @Override
    public void close() {
        if (onClose != null) {
            onClose.accept(chunks);
        }
    }
}
