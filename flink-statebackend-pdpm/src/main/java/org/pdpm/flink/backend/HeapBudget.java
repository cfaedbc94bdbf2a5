package org.pdpm.flink.backend;

import java.util.concurrent.atomic.AtomicLong;

/** Heap bytes that the buffers (or caches) of all backends in one JVM share. */
final class HeapBudget {

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    HeapBudget(long limit) {
        this.limit = limit;
    }

    /** An eighth of this JVM's heap. */
    static HeapBudget eighthOfHeap() {
        return new HeapBudget(Runtime.getRuntime().maxMemory() / 8);
    }

    /** Adds {@code bytes} (negative: releases them); true when the holders now hold the limit or more. */
    boolean add(long bytes) {
        return used.addAndGet(bytes) >= limit;
    }

    boolean exhausted() {
        return used.get() >= limit;
    }

    long used() {
        return used.get();
    }
}
