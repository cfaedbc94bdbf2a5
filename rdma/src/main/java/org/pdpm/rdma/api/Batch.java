package org.pdpm.rdma.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * Work requests posted together: one doorbell, one round trip, executed and completed in posting
 * order. Each adder returns the request's index, which names its result in {@link BatchResult}.
 *
 * <p>A batch keeps references to the byte arrays given to {@code write}; they must not change
 * until the batch has completed. A batch may be {@link #clear() cleared} and reused once its
 * completion has been consumed, so hot paths allocate nothing per operation.
 */
public final class Batch {

    // Four arrays rather than one per field: a batch is built on every operation's hot path.
    private static final int INTS = 4;     // region id, rkey, length, source offset
    private static final int LONGS = 3;    // offset, operand, swap
    private Verb[] verbs;
    private byte[][] sources;
    private int[] ints;
    private long[] longs;
    private int size;
    private long transferBytes;

    public Batch() {
        this(8);
    }

    public Batch(int initialCapacity) {
        int c = Math.max(1, initialCapacity);
        verbs = new Verb[c];
        sources = new byte[c][];
        ints = new int[INTS * c];
        longs = new long[LONGS * c];
    }

    /** READ {@code length} bytes at {@code offset}. */
    public int read(RemoteRegion region, long offset, int length) {
        checkLength(length);
        return add(Verb.READ, region, offset, length, null, 0, 0, 0);
    }

    /** WRITE all of {@code source} at {@code offset}. */
    public int write(RemoteRegion region, long offset, byte[] source) {
        return write(region, offset, source, 0, source.length);
    }

    /** WRITE {@code length} bytes of {@code source}, from {@code sourceOffset}, at {@code offset}. */
    public int write(RemoteRegion region, long offset, byte[] source, int sourceOffset, int length) {
        Objects.requireNonNull(source, "source");
        checkLength(length);
        Objects.checkFromIndexSize(sourceOffset, length, source.length);
        return add(Verb.WRITE, region, offset, length, source, sourceOffset, 0, 0);
    }

    /** CAS the 8-byte word at {@code offset}: set to {@code desired} if it holds {@code expected}. */
    public int compareAndSwap(RemoteRegion region, long offset, long expected, long desired) {
        return add(Verb.COMPARE_AND_SWAP, region, offset, FabricLimits.ATOMIC_BYTES, null, 0, expected, desired);
    }

    /** Adds {@code delta} to the 8-byte word at {@code offset}; the result holds the old value. */
    public int fetchAndAdd(RemoteRegion region, long offset, long delta) {
        return add(Verb.FETCH_AND_ADD, region, offset, FabricLimits.ATOMIC_BYTES, null, 0, delta, 0);
    }

    /** Makes earlier writes in {@code [offset, offset + length)} durable. */
    public int flush(RemoteRegion region, long offset, long length) {
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("flush length=" + length + " must be in 0.." + Integer.MAX_VALUE);
        }
        return add(Verb.FLUSH, region, offset, (int) length, null, 0, 0, 0);
    }

    private static void checkLength(int length) {
        if (length < 0 || length > FabricLimits.MAX_TRANSFER_BYTES) {
            throw new FabricException(FabricException.Status.LOCAL_LENGTH_ERROR,
                    "length=" + length + " outside 0.." + FabricLimits.MAX_TRANSFER_BYTES);
        }
    }

    private int add(Verb verb, RemoteRegion region, long offset, int length,
                    byte[] source, int sourceOffset, long operand, long swap) {
        Objects.requireNonNull(region, "region");
        if (size == FabricLimits.MAX_BATCH_VERBS) {
            throw new FabricException(FabricException.Status.LOCAL_LENGTH_ERROR,
                    "a batch holds at most " + FabricLimits.MAX_BATCH_VERBS + " verbs");
        }
        long moved = (verb == Verb.READ || verb == Verb.WRITE) ? length : 0;
        if (transferBytes + moved > FabricLimits.MAX_BATCH_BYTES) {
            throw new FabricException(FabricException.Status.LOCAL_LENGTH_ERROR,
                    "a batch moves at most " + FabricLimits.MAX_BATCH_BYTES + " bytes");
        }
        transferBytes += moved;
        if (size == verbs.length) {
            grow();
        }
        int i = size++;
        verbs[i] = verb;
        sources[i] = source;
        ints[INTS * i] = region.regionId();
        ints[INTS * i + 1] = region.rkey();
        ints[INTS * i + 2] = length;
        ints[INTS * i + 3] = sourceOffset;
        longs[LONGS * i] = offset;
        longs[LONGS * i + 1] = operand;
        longs[LONGS * i + 2] = swap;
        return i;
    }

    private void grow() {
        int c = Math.min(verbs.length * 2, FabricLimits.MAX_BATCH_VERBS);
        verbs = Arrays.copyOf(verbs, c);
        sources = Arrays.copyOf(sources, c);
        ints = Arrays.copyOf(ints, INTS * c);
        longs = Arrays.copyOf(longs, LONGS * c);
    }

    /** Empties the batch for reuse; only once its previous completion has been consumed. */
    public void clear() {
        Arrays.fill(sources, 0, size, null);
        size = 0;
        transferBytes = 0;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public Verb verb(int i) {
        Objects.checkIndex(i, size);
        return verbs[i];
    }

    public int regionId(int i) {
        return ints[INTS * i];
    }

    public int rkey(int i) {
        return ints[INTS * i + 1];
    }

    public long offset(int i) {
        return longs[LONGS * i];
    }

    /** Bytes read or written (8 for atomics; the range's length for a flush). */
    public int length(int i) {
        return ints[INTS * i + 2];
    }

    public byte[] source(int i) {
        return sources[i];
    }

    public int sourceOffset(int i) {
        return ints[INTS * i + 3];
    }

    /** The CAS's expected value, or the FAA's delta. */
    public long operand(int i) {
        return longs[LONGS * i + 1];
    }

    /** The CAS's desired value. */
    public long swap(int i) {
        return longs[LONGS * i + 2];
    }

    /** Payload bytes this batch moves: READ and WRITE lengths, 8 per atomic. */
    public long payloadBytes() {
        long bytes = transferBytes;
        for (int i = 0; i < size; i++) {
            if (verbs[i].isAtomic()) {
                bytes += FabricLimits.ATOMIC_BYTES;
            }
        }
        return bytes;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Batch[");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(verbs[i]).append(" r").append(regionId(i)).append('@').append(offset(i))
                    .append('+').append(length(i));
        }
        return sb.append(']').toString();
    }
}
