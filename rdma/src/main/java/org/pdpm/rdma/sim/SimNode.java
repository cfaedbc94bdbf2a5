package org.pdpm.rdma.sim;

import java.util.SplittableRandom;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.memory.NodeMemory;
import org.pdpm.rdma.memory.VerbExecutor;

/**
 * A simulated memory node: one region whose durability is tracked, served through the shared
 * {@link VerbExecutor} so protection checks are those of every other fabric. Each start registers
 * the region afresh (new rkey) behind a new executor; connections hold the executor they were set
 * up with, so a connection from before a kill stays dead after the restart, as a queue pair does.
 *
 * <p>Batches execute under the read side of a lock and kill, power loss and restart take the write
 * side, so a batch runs wholly before a failure or fails with RETRY_EXCEEDED after it.
 */
final class SimNode {

    private final NodeAddress address;
    private final String nodeId;
    private final boolean writeThrough;
    private final DurableRegionMemory region;
    private final SplittableRandom tearRandom;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile VerbExecutor serving;

    SimNode(NodeAddress address, String nodeId, long sizeBytes, boolean writeThrough, SplittableRandom tearRandom) {
        this.address = address;
        this.nodeId = nodeId;
        this.writeThrough = writeThrough;
        this.region = new DurableRegionMemory(sizeBytes, writeThrough);
        this.tearRandom = tearRandom;
        start();
    }

    /** The executor a new connection talks to; RETRY_EXCEEDED while the node is down. */
    VerbExecutor executorForNewConnection() {
        VerbExecutor current = serving;
        if (current == null) {
            throw down();
        }
        return current;
    }

    /** Runs {@code work} while the node is up and still the incarnation {@code executor} belongs to. */
    <T> T whileServing(VerbExecutor executor, Supplier<T> work) {
        lifecycle.readLock().lock();
        try {
            if (serving != executor) {
                throw down();
            }
            return work.get();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** The node's process dies; its memory, as a mapped PM file, keeps even un-flushed writes. */
    void kill() {
        lifecycle.writeLock().lock();
        try {
            serving = null;
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** The node loses power: it goes down and its un-flushed writes are dropped or torn. */
    int losePower(PowerLoss mode) {
        lifecycle.writeLock().lock();
        try {
            serving = null;
            return region.losePower(mode, tearRandom);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** Serves again with whatever its memory holds, under a fresh rkey. */
    void restart() {
        lifecycle.writeLock().lock();
        try {
            if (serving != null) {
                throw new IllegalStateException("node=" + address + " is up; kill it or cut its power first");
            }
            start();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    boolean isUp() {
        return serving != null;
    }

    int unflushedWords() {
        return region.dirtyWordCount();
    }

    private void start() {
        NodeMemory memory = new NodeMemory(nodeId, writeThrough);
        memory.register(region);
        serving = new VerbExecutor(memory);
    }

    private FabricException down() {
        return new FabricException(FabricException.Status.RETRY_EXCEEDED, "simulated node " + address + " is down");
    }

    void close() {
        kill();
        region.close();
    }
}
