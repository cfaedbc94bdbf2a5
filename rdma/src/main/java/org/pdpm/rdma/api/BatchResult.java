package org.pdpm.rdma.api;

import java.util.Objects;

/** The completions of one batch, by the index each adder of {@link Batch} returned. */
public final class BatchResult {

    private final Batch batch;
    private final byte[][] readData;
    private final long[] values;

    /** Fabrics fill {@code readData[i]} for READs and {@code values[i]} for atomics. */
    public BatchResult(Batch batch, byte[][] readData, long[] values) {
        this.batch = Objects.requireNonNull(batch, "batch");
        this.readData = readData;
        this.values = values;
    }

    public Batch batch() {
        return batch;
    }

    /** The bytes READ number {@code i} returned. */
    public byte[] bytes(int i) {
        if (batch.verb(i) != Verb.READ) {
            throw new IllegalArgumentException("request " + i + " is a " + batch.verb(i) + ", not a READ");
        }
        return readData[i];
    }

    /** The word atomic number {@code i} found before it acted. */
    public long oldValue(int i) {
        if (!batch.verb(i).isAtomic()) {
            throw new IllegalArgumentException("request " + i + " is a " + batch.verb(i) + ", not an atomic");
        }
        return values[i];
    }

    /** Whether CAS number {@code i} swapped (the word held the expected value). */
    public boolean swapped(int i) {
        if (batch.verb(i) != Verb.COMPARE_AND_SWAP) {
            throw new IllegalArgumentException("request " + i + " is a " + batch.verb(i) + ", not a CAS");
        }
        return values[i] == batch.operand(i);
    }
}
