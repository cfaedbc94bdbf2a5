package org.pdpm.rdma.sim;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.pdpm.rdma.memory.ChunkedRegionMemory;
import org.pdpm.rdma.memory.RegionMemory;

/**
 * Region memory that knows what a power loss would keep. Verbs act on the volatile copy (what the
 * NIC and the CPU caches see); a FLUSH copies the words it covers into the durable image (the
 * persistence domain). One dirty bit per 8-byte word marks the words written since they were last
 * made durable, so a flush or a power loss touches only those words, never the whole region.
 *
 * <p>Writes, atomics, flushes and power loss hold this object's lock, so the dirty bits always
 * describe memory; reads do not, so a READ racing a WRITE may return a torn mix, as on a real NIC.
 * Durability is tracked per word: a flush makes every word it overlaps durable.
 */
final class DurableRegionMemory implements RegionMemory {

    /** The durable image lives on the heap beside the volatile copy; simulated regions are small. */
    static final long MAX_SIZE_BYTES = 1L << 30;

    private static final int WORD_SHIFT = 3;

    private final ChunkedRegionMemory volatileMemory;
    private final byte[] durable;
    private final BitSet dirtyWords;
    private final boolean writeThrough;
    private final byte[] wordBuffer = new byte[8];

    DurableRegionMemory(long sizeBytes, boolean writeThrough) {
        if (sizeBytes <= 0 || sizeBytes > MAX_SIZE_BYTES) {
            throw new IllegalArgumentException("sizeBytes=" + sizeBytes + " must be in 1.." + MAX_SIZE_BYTES
                    + " for a simulated region");
        }
        this.volatileMemory = ChunkedRegionMemory.allocateDirect(sizeBytes);
        this.durable = new byte[(int) sizeBytes];
        this.dirtyWords = new BitSet(wordIndexAfter(sizeBytes));
        this.writeThrough = writeThrough;
    }

    @Override
    public long sizeBytes() {
        return durable.length;
    }

    @Override
    public void read(long offset, byte[] target, int targetOffset, int length) {
        volatileMemory.read(offset, target, targetOffset, length);
    }

    @Override
    public synchronized void write(long offset, byte[] source, int sourceOffset, int length) {
        volatileMemory.write(offset, source, sourceOffset, length);
        if (writeThrough) {
            System.arraycopy(source, sourceOffset, durable, (int) offset, length);
        } else if (length > 0) {
            dirtyWords.set(wordIndex(offset), wordIndexAfter(offset + length));
        }
    }

    @Override
    public synchronized long compareAndSwap(long offset, long expected, long desired) {
        long found = volatileMemory.compareAndSwap(offset, expected, desired);
        if (found == expected) {
            landed(wordIndex(offset));
        }
        return found;
    }

    @Override
    public synchronized long fetchAndAdd(long offset, long delta) {
        long found = volatileMemory.fetchAndAdd(offset, delta);
        landed(wordIndex(offset));
        return found;
    }

    @Override
    public synchronized void flush(long offset, long length) {
        if (length == 0) {
            return;
        }
        int from = wordIndex(offset);
        int to = wordIndexAfter(offset + length);
        for (int w = dirtyWords.nextSetBit(from); w >= 0 && w < to; w = dirtyWords.nextSetBit(w + 1)) {
            persist(w);
        }
        dirtyWords.clear(from, to);
    }

    /**
     * Loses power: each dirty word reverts to its durable value, or under {@link PowerLoss#TEAR}
     * survives with probability one half, drawn from {@code random} in ascending word order so that
     * the same history and seed always tear the same words. Afterwards memory equals the durable image.
     *
     * @return how many dirty words reverted
     */
    synchronized int losePower(PowerLoss mode, SplittableRandom random) {
        int reverted = 0;
        for (int w = dirtyWords.nextSetBit(0); w >= 0; w = dirtyWords.nextSetBit(w + 1)) {
            if (mode == PowerLoss.TEAR && random.nextBoolean()) {
                persist(w);
            } else {
                revert(w);
                reverted++;
            }
        }
        dirtyWords.clear();
        return reverted;
    }

    /** Words written since they were last made durable. */
    synchronized int dirtyWordCount() {
        return dirtyWords.cardinality();
    }

    private void landed(int word) {
        if (writeThrough) {
            persist(word);
        } else {
            dirtyWords.set(word);
        }
    }

    private void persist(int word) {
        long at = (long) word << WORD_SHIFT;
        volatileMemory.read(at, durable, (int) at, wordLength(at));
    }

    private void revert(int word) {
        long at = (long) word << WORD_SHIFT;
        int n = wordLength(at);
        System.arraycopy(durable, (int) at, wordBuffer, 0, n);
        volatileMemory.write(at, wordBuffer, 0, n);
    }

    /** 8, except for a last word cut short by a region size that is not a multiple of 8. */
    private int wordLength(long at) {
        return (int) Math.min(8, durable.length - at);
    }

    private static int wordIndex(long offset) {
        return (int) (offset >>> WORD_SHIFT);
    }

    private static int wordIndexAfter(long endOffset) {
        return (int) ((endOffset + 7) >>> WORD_SHIFT);
    }

    @Override
    public void close() {
        volatileMemory.close();
    }
}
