package org.pdpm.rdma.sim;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;

/**
 * One simulated compute node: its connections share one verb count, one fault schedule and one
 * fate. Verbs are counted across all its connections in posting order, whether or not they then
 * execute (refused and failed batches count too), which is what crash-point enumeration needs:
 *
 * <pre>{@code
 * long n = countVerbsOf(operation);                 // a run without a limit: client.verbsPosted()
 * for (long k = 0; k <= n; k++) {
 *     SimFabric sim = SimFabric.builder().seed(seed).build();
 *     SimClient writer = sim.client("writer").crashAfterVerbs(k);
 *     try {
 *         operation.run(writer);
 *     } catch (RuntimeException e) {
 *         if (!SimulatedCrashException.isCrash(e)) throw e;   // stopped where we asked
 *     }
 *     // recover with another client and check the invariants
 * }
 * }</pre>
 *
 * Once stopped, the client's first k verbs have executed (within a batch, a prefix of it), no later
 * verb ever executes, and its batches in flight and everything it posts afterwards fail with
 * {@link SimulatedCrashException}.
 */
public final class SimClient {

    private final String name;
    private final Faults faults;
    private final SplittableRandom random;
    private final List<SimConnection> connections = new CopyOnWriteArrayList<>();
    private final SimFabric fabric;
    private long verbsPosted;
    private volatile long verbLimit = Long.MAX_VALUE;
    private volatile boolean crashed;

    SimClient(SimFabric fabric, String name, Faults faults, SplittableRandom random) {
        this.fabric = fabric;
        this.name = name;
        this.faults = faults;
        this.random = random;
    }

    public String name() {
        return name;
    }

    public Faults faults() {
        return faults;
    }

    /** Opens a connection from this client; RETRY_EXCEEDED when the node is down. */
    public Connection connect(NodeAddress address) {
        SimConnection c = new SimConnection(this, fabric.nodeToConnect(address), fabric.timeoutNanos());
        connections.add(c);
        return c;
    }

    /**
     * This client as a {@link Fabric}, for code that opens its own connections (a store, a
     * metadata server): everything it connects shares this client's verb count and fate. Closing
     * the view closes the connections opened through it.
     */
    public Fabric asFabric() {
        List<Connection> opened = new CopyOnWriteArrayList<>();
        return new Fabric() {
            @Override
            public String name() {
                return "sim";
            }

            @Override
            public Connection connect(NodeAddress address) {
                Connection c = SimClient.this.connect(address);
                opened.add(c);
                return c;
            }

            @Override
            public void close() {
                opened.forEach(Connection::close);
            }
        };
    }

    /**
     * Stops this client at the posting of its verb number {@code verbs + 1}, counting every verb it
     * has posted since it was created; with {@code 0} it never executes anything.
     */
    public synchronized SimClient crashAfterVerbs(long verbs) {
        if (verbs < 0) {
            throw new IllegalArgumentException("verbs=" + verbs + " must not be negative");
        }
        verbLimit = verbs;
        return this;
    }

    /** Verbs posted so far on all of this client's connections. */
    public synchronized long verbsPosted() {
        return verbsPosted;
    }

    /** Whether the client has been stopped by its verb limit. */
    public boolean isCrashed() {
        return crashed;
    }

    CompletableFuture<BatchResult> post(SimConnection connection, Batch batch) {
        CompletableFuture<BatchResult> completion = new CompletableFuture<>();
        BatchFate fate;
        synchronized (this) {
            if (crashed) {
                return CompletableFuture.failedFuture(crashFailure());
            }
            fate = decideFate(batch);
            if (!connection.enqueue(new PostedBatch(batch, fate, completion, System.nanoTime() + fate.delayNanos()))) {
                return CompletableFuture.failedFuture(
                        new FabricException(FabricException.Status.FLUSHED, "connection closed while posting"));
            }
        }
        connection.deliverWhenDue(fate.delayNanos());
        return completion;
    }

    /** Draws the batch's fate; every draw happens here, under the lock, in posting order. */
    private BatchFate decideFate(Batch batch) {
        long allowed = verbLimit - verbsPosted;
        verbsPosted += batch.size();
        if (allowed < batch.size()) {
            crashed = true;
            return BatchFate.stopsClientAfter((int) Math.max(0, allowed));
        }
        FailureMode failure = null;
        if (faults.failureProbability() > 0 && random.nextDouble() < faults.failureProbability()) {
            failure = faults.failureMode();
        }
        long delayNanos = 0;
        if (faults.delayProbability() > 0 && random.nextDouble() < faults.delayProbability()) {
            delayNanos = faults.minDelayNanos() + random.nextLong(faults.maxDelayNanos() - faults.minDelayNanos() + 1);
        }
        return BatchFate.normal(failure, faults.failureStatus(), delayNanos);
    }

    SimulatedCrashException crashFailure() {
        return new SimulatedCrashException("simulated client '" + name + "' was stopped after verb " + verbLimit
                + " (seed=" + fabric.seed() + ")");
    }

    void forget(SimConnection connection) {
        connections.remove(connection);
    }

    void closeConnections() {
        for (SimConnection c : connections) {
            c.close();
        }
    }

    @Override
    public String toString() {
        return "SimClient[" + name + ", seed=" + fabric.seed() + ", " + faults + "]";
    }
}
