package org.pdpm.rdma.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One wait on an operation's critical path: batches posted to one or more connections and awaited
 * together. {@link #await()} counts exactly one round trip on the operation's counter however many
 * batches and nodes took part (R replicas written at once cost one round trip, as on RDMA).
 *
 * <pre>{@code
 * RoundTrip rt = RoundTrip.on(opCounter);
 * rt.post(replica0, batch0);
 * rt.post(replica1, batch1);
 * List<BatchResult> results = rt.await();   // opCounter.roundTrips() += 1
 * }</pre>
 */
public final class RoundTrip {

    private final TrafficCounter counter;
    private final List<CompletableFuture<BatchResult>> futures = new ArrayList<>(4);
    private final List<Connection> connections = new ArrayList<>(4);

    private RoundTrip(TrafficCounter counter) {
        this.counter = counter;
    }

    public static RoundTrip on(TrafficCounter counter) {
        return new RoundTrip(counter);
    }

    /** Posts {@code batch} on {@code connection} as part of this round trip. */
    public CompletableFuture<BatchResult> post(Connection connection, Batch batch) {
        CompletableFuture<BatchResult> f = connection.postAwaited(batch);
        counter.addBatch(batch);
        futures.add(f);
        connections.add(connection);
        return f;
    }

    /**
     * Waits for every batch and counts one round trip. Throws the first failure (in posting order)
     * after all batches have completed, so no completion is left behind.
     */
    public List<BatchResult> await() {
        counter.addRoundTrips(1);
        List<BatchResult> results = new ArrayList<>(futures.size());
        FabricException first = null;
        for (int i = 0; i < futures.size(); i++) {
            Connection c = connections.get(i);
            try {
                results.add(c.await(futures.get(i)));
            } catch (FabricException e) {
                results.add(null);
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return results;
    }

    /**
     * Waits for every batch and counts one round trip, returning results with {@code null} for
     * failed batches and never throwing: for replicated writes that must know which replicas failed.
     */
    public List<Outcome> awaitEach() {
        counter.addRoundTrips(1);
        List<Outcome> outcomes = new ArrayList<>(futures.size());
        for (int i = 0; i < futures.size(); i++) {
            Connection c = connections.get(i);
            try {
                outcomes.add(new Outcome(c.await(futures.get(i)), null));
            } catch (FabricException e) {
                outcomes.add(new Outcome(null, e));
            }
        }
        return outcomes;
    }

    /** A batch's result or its failure. */
    public record Outcome(BatchResult result, FabricException failure) {
        public boolean succeeded() {
            return failure == null;
        }
    }
}
