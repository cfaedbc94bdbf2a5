package org.pdpm.rdma.api;

/** The one-sided verbs a memory node serves. Codes are part of the tcp wire format. */
public enum Verb {
    READ(1),
    WRITE(2),
    COMPARE_AND_SWAP(3),
    FETCH_AND_ADD(4),
    /** Makes every earlier write to the range durable (IBTA RDMA FLUSH). */
    FLUSH(5);

    private static final Verb[] BY_CODE = new Verb[6];

    static {
        for (Verb v : values()) {
            BY_CODE[v.code] = v;
        }
    }

    private final int code;

    Verb(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public boolean isAtomic() {
        return this == COMPARE_AND_SWAP || this == FETCH_AND_ADD;
    }

    /** The verb with this wire code, or null for an unknown code. */
    public static Verb ofCode(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
