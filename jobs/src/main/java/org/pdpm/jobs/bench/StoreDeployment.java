package org.pdpm.jobs.bench;

import java.io.IOException;
import java.util.Map;
import java.util.OptionalLong;
import org.pdpm.core.api.KvStore;

/**
 * One system stood up for {@code pdpm bench kv}: memory nodes, servers, databases — whatever it
 * needs — and the clients the benchmark threads use. Closing it tears all of that down, child
 * processes and temporary files included; a deployment that fails to start closes what it began.
 */
public interface StoreDeployment extends AutoCloseable {

    /**
     * What a deployment is sized and placed for.
     *
     * @param fabric           where the memory nodes live (stores off the fabric ignore it)
     * @param replication      copies of every value (stores without replication ignore it)
     * @param clients          clients the benchmark will ask for, one per thread at most
     * @param keys             keys the load phase writes (records the store must have room for)
     * @param keyBytes         size of every key the store sees
     * @param valueBytes       size of every value the store sees
     * @param runPuts          PUTs the run phases will make, or 0 when unknown (timed runs)
     * @param pdpmMainClass    main class of the {@code pdpm} command, to start child processes with
     */
    record Plan(FabricKind fabric, int replication, int clients, long keys, int keyBytes, int valueBytes, long runPuts,
                String pdpmMainClass) {
        public Plan {
            if (clients < 1) {
                throw new IllegalArgumentException("clients=" + clients + " must be positive");
            }
            if (keys < 1) {
                throw new IllegalArgumentException("keys=" + keys + " must be positive");
            }
            if (keyBytes < 1) {
                throw new IllegalArgumentException("keyBytes=" + keyBytes + " must be positive");
            }
        }
    }

    /**
     * Called once the load phase has written every key, before the warm-up: a deployment whose
     * clients change after loading (the lineage wrapper forks its threads' lineages here) does so.
     */
    default void loaded() {}

    /**
     * Called right before each measured run phase, after its warm-up: what {@link #describe()}
     * reports of the run (the lineage wrapper's checkpoints) counts from here.
     */
    default void measuring() {}

    /** The store benchmark thread {@code thread} (0-based, below {@link Plan#clients()}) uses. */
    KvStore client(int thread);

    /** The stores behind the clients, each once: one per thread, or the single shared one. */
    Iterable<KvStore> stores();

    /**
     * What the output says about the deployment, beyond the benchmark's own settings: at least
     * {@code fabric}, {@code replication}, {@code metadata_server} and {@code clients} (null where
     * they do not apply).
     */
    Map<String, Object> describe();

    /**
     * The yardstick of a run on a real fabric: single 8-byte READs pipelined from one thread with
     * {@code depth} in flight against the deployment's first memory node, READs completed per second
     * over {@code nanos} after a warm-up of {@code warmupNanos} (see
     * {@link FabricBenchmark#pipelinedReadsPerSecond}). Empty where there is no fabric worth the
     * comparison: stores off the fabric, and memory nodes in this JVM, whose READs are copies the
     * posting thread makes at once.
     */
    default OptionalLong pipelinedFabricReadsPerSecond(int depth, long warmupNanos, long nanos) {
        return OptionalLong.empty();
    }

    /**
     * The second yardstick, where the first is measured: single 8-byte READs from {@code threads}
     * threads with connections of their own, each synchronous at {@code inFlight} 1 and otherwise
     * keeping {@code inFlight} in flight (see {@link FabricBenchmark#sameShapeReadsPerSecond}) —
     * the run's own thread structure with nothing of the store in it.
     */
    default OptionalLong sameShapeFabricReadsPerSecond(int threads, int inFlight, long warmupNanos, long nanos) {
        return OptionalLong.empty();
    }

    /** Stops everything the deployment started and deletes its files. */
    @Override
    void close() throws IOException;
}
