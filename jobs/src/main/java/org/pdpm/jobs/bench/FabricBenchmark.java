package org.pdpm.jobs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.HdrHistogram.Histogram;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.RemoteRegion;

/**
 * Measures one connection the way the stores use it: the transport's floor (an empty batch, a
 * round trip with no verb in it), single verbs, a doorbell batch, and pipelined throughput from
 * one client. A warm-up runs every operation in turn before anything is measured, then the
 * operations take turns sample by sample; the measured loops reuse their batches and allocate nothing
 * of their own, so what is measured is the fabric.
 *
 * <p>It writes to the first {@link #FOOTPRINT_BYTES} bytes of the node's first region.
 */
public final class FabricBenchmark {

    /** Bytes of the region the benchmark reads and overwrites, from offset 0. */
    public static final long FOOTPRINT_BYTES = 32 << 10;

    /** Deepest pipeline: its slots must fit in the footprint. */
    public static final int MAX_PIPELINE_DEPTH = 1024;

    private static final int WORD_BYTES = 8;
    private static final int WRITE_BYTES = 4 << 10;
    private static final int BATCH_READS = 32;
    private static final long READ8_OFFSET = 0;
    private static final long BATCH_READS_OFFSET = 0;
    private static final int BATCH_READ_STRIDE = 64;
    private static final long WRITE_OFFSET = 4 << 10;
    private static final long CAS_OFFSET = 8 << 10;
    private static final long PIPELINE_OFFSET = 16 << 10;

    /** Slowest latency the histograms record; anything slower is a timeout in all but name. */
    private static final long HIGHEST_TRACKABLE_NANOS = TimeUnit.MINUTES.toNanos(1);

    static {
        if (BATCH_READS_OFFSET + (long) BATCH_READS * BATCH_READ_STRIDE > WRITE_OFFSET
                || WRITE_OFFSET + WRITE_BYTES > CAS_OFFSET
                || PIPELINE_OFFSET + (long) MAX_PIPELINE_DEPTH * WORD_BYTES > FOOTPRINT_BYTES) {
            throw new AssertionError("benchmark areas overlap or leave the footprint");
        }
    }

    /** How much to measure. */
    public record Settings(int warmupOps, int measuredOps, long pipelineWarmupNanos, long pipelineNanos,
                           int pipelineDepth) {
        public Settings {
            if (warmupOps < 0) {
                throw new IllegalArgumentException("warmupOps=" + warmupOps + " must not be negative");
            }
            if (measuredOps < 1) {
                throw new IllegalArgumentException("measuredOps=" + measuredOps + " must be positive");
            }
            if (pipelineWarmupNanos < 0) {
                throw new IllegalArgumentException("pipelineWarmupNanos=" + pipelineWarmupNanos + " must not be negative");
            }
            if (pipelineNanos < 1) {
                throw new IllegalArgumentException("pipelineNanos=" + pipelineNanos + " must be positive");
            }
            if (pipelineDepth < 1 || pipelineDepth > MAX_PIPELINE_DEPTH) {
                throw new IllegalArgumentException("pipelineDepth=" + pipelineDepth + " is outside 1.." + MAX_PIPELINE_DEPTH);
            }
        }
    }

    /** One fabric's figures; latencies in microseconds. */
    public record Result(String fabric, double floorRttUsP50, double read8UsP50, double read8UsP99,
                         double write4kFlushUsP50, double casUsP50, double batch32ReadUsP50,
                         long pipelinedVerbsPerS, int pipelineDepth) {

        /** The JSON line's fields, in their documented order. */
        public Map<String, Object> toJson(Map<String, Object> machine) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fabric", fabric);
            m.put("machine", machine);
            m.put("floor_rtt_us_p50", floorRttUsP50);
            m.put("read8_us_p50", read8UsP50);
            m.put("read8_us_p99", read8UsP99);
            m.put("write4k_flush_us_p50", write4kFlushUsP50);
            m.put("cas_us_p50", casUsP50);
            m.put("batch32_read_us_p50", batch32ReadUsP50);
            m.put("pipelined_verbs_per_s", pipelinedVerbsPerS);
            m.put("pipeline_depth", pipelineDepth);
            return m;
        }
    }

    private final Connection connection;
    private final RemoteRegion region;
    private final Settings settings;
    private final String nodeId;

    public FabricBenchmark(Connection connection, Settings settings) {
        this.connection = connection;
        this.settings = settings;
        this.region = connection.node().firstRegion();
        this.nodeId = connection.node().nodeId();
        if (region.sizeBytes() < FOOTPRINT_BYTES) {
            throw new IllegalArgumentException("region of node " + nodeId + " has sizeBytes=" + region.sizeBytes()
                    + "; the benchmark needs " + FOOTPRINT_BYTES);
        }
    }

    public Result run(String fabric) {
        Batch empty = new Batch();
        Runnable floor = () -> connection.execute(empty);

        Batch read8 = new Batch(1);
        read8.read(region, READ8_OFFSET, WORD_BYTES);
        Runnable read = () -> connection.execute(read8);

        Batch writeFlush = new Batch(2);
        writeFlush.write(region, WRITE_OFFSET, new byte[WRITE_BYTES]);
        writeFlush.flush(region, WRITE_OFFSET, WRITE_BYTES);
        Runnable write = () -> connection.execute(writeFlush);

        Runnable cas = new SwapOnce();

        Batch batch32 = new Batch(BATCH_READS);
        for (int i = 0; i < BATCH_READS; i++) {
            batch32.read(region, BATCH_READS_OFFSET + (long) i * BATCH_READ_STRIDE, WORD_BYTES);
        }
        Runnable batchReads = () -> connection.execute(batch32);

        // Warm the whole path — client, transport and node — before anything is measured.
        List<Runnable> all = List.of(floor, read, write, cas, batchReads);
        for (int i = 0; i < settings.warmupOps(); i++) {
            for (Runnable op : all) {
                op.run();
            }
        }
        // The operations take turns, sample by sample, so that a drift in the machine's state (a
        // neighbour's load, a GC, CPU frequency) weighs on every figure alike and the ratios hold.
        Histogram[] h = new Histogram[all.size()];
        for (int k = 0; k < h.length; k++) {
            h[k] = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
        }
        for (int i = 0; i < settings.measuredOps(); i++) {
            for (int k = 0; k < h.length; k++) {
                long start = System.nanoTime();
                all.get(k).run();
                h[k].recordValue(Math.min(Math.max(1, System.nanoTime() - start), HIGHEST_TRACKABLE_NANOS));
            }
        }
        return new Result(fabric, p50Micros(h[0]), p50Micros(h[1]), micros(h[1].getValueAtPercentile(99)),
                p50Micros(h[2]), p50Micros(h[3]), p50Micros(h[4]), pipelinedReadsPerSecond(),
                settings.pipelineDepth());
    }

    /**
     * A CAS that succeeds each time, so that every sample is a swap. The word's old value comes
     * back with each completion: when something else changed it, the next CAS expects that value.
     */
    private final class SwapOnce implements Runnable {
        private final Batch batch = new Batch(1);
        // A CAS of 0 by 0 changes nothing and returns the word: its value before the first sample.
        private long expected = connection.compareAndSwap(region, CAS_OFFSET, 0, 0);

        @Override
        public void run() {
            batch.clear();
            batch.compareAndSwap(region, CAS_OFFSET, expected, expected + 1);
            long old = connection.execute(batch).oldValue(0);
            expected = old == expected ? expected + 1 : old;
        }
    }

    /** Single 8-byte READs from one client with {@code pipelineDepth} in flight; see the static form. */
    private long pipelinedReadsPerSecond() {
        return pipelinedReadsPerSecond(connection, region, PIPELINE_OFFSET, settings.pipelineDepth(),
                settings.pipelineWarmupNanos(), settings.pipelineNanos());
    }

    /**
     * Single 8-byte READs from one client with {@code depth} in flight: each slot posts its next READ
     * from the completion callback of its last one, the way an asynchronous client keeps a pipeline
     * full, for {@code warmupNanos}, then again for {@code nanos}, which is measured. The fabric is
     * free to coalesce what is in flight. Slot {@code i} reads the word at {@code offset + 8 i}; it
     * only reads, so any words of a node's region will do, in use or not.
     *
     * @return READs completed per second in the measured stretch, drain included
     * @throws IllegalArgumentException when the slots' words are not all inside {@code region}
     * @throws IllegalStateException when a READ fails or the pipeline does not drain in time
     */
    public static long pipelinedReadsPerSecond(Connection connection, RemoteRegion region, long offset, int depth,
                                               long warmupNanos, long nanos) {
        if (depth < 1) {
            throw new IllegalArgumentException("depth=" + depth + " must be positive");
        }
        if (offset < 0 || offset + (long) depth * WORD_BYTES > region.sizeBytes()) {
            throw new IllegalArgumentException("offset=" + offset + " and depth=" + depth + " read beyond the region's "
                    + region.sizeBytes() + " bytes");
        }
        if (warmupNanos < 0) {
            throw new IllegalArgumentException("warmupNanos=" + warmupNanos + " must not be negative");
        }
        if (nanos < 1) {
            throw new IllegalArgumentException("nanos=" + nanos + " must be positive");
        }
        Batch[] slots = new Batch[depth];
        for (int i = 0; i < depth; i++) {
            slots[i] = new Batch(1);
            slots[i].read(region, offset + (long) i * WORD_BYTES, WORD_BYTES);
        }
        pipeline(connection, slots, warmupNanos);
        long start = System.nanoTime();
        long verbs = pipeline(connection, slots, nanos);
        long elapsed = System.nanoTime() - start;
        return Math.round(verbs * 1e9 / elapsed);
    }

    /**
     * Single 8-byte READs shaped like a store's run: one thread per connection, all at once, each
     * synchronous when {@code inFlight} is 1 (it waits for every READ, as a synchronous GET does)
     * and otherwise keeping {@code inFlight} in flight as {@link #pipelinedReadsPerSecond} does.
     * Thread {@code t} reads the words from {@code 8 t inFlight}. Against the one-thread
     * pipeline at the same total depth, this tells what the thread structure itself costs on this
     * machine, apart from what the store adds.
     *
     * @return READs completed per second by all threads together, each over its measured stretch
     */
    private static long sameShapeReadsPerSecond(List<Connection> connections, RemoteRegion region, int inFlight,
                                                long warmupNanos, long nanos) {
        if (connections.isEmpty() || inFlight < 1) {
            throw new IllegalArgumentException("connections=" + connections.size() + " and inFlight=" + inFlight
                    + " must be positive");
        }
        if ((long) connections.size() * inFlight * WORD_BYTES > region.sizeBytes()) {
            throw new IllegalArgumentException(connections.size() + " x " + inFlight
                    + " words read beyond the region's " + region.sizeBytes() + " bytes");
        }
        List<CompletableFuture<Long>> rates = new ArrayList<>();
        for (int t = 0; t < connections.size(); t++) {
            Connection c = connections.get(t);
            long at = (long) t * inFlight * WORD_BYTES;
            CompletableFuture<Long> rate = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    rate.complete(inFlight == 1 ? synchronousReadsPerSecond(c, region, at, warmupNanos, nanos)
                            : pipelinedReadsPerSecond(c, region, at, inFlight, warmupNanos, nanos));
                } catch (Throwable e) {
                    rate.completeExceptionally(e);
                }
            }, "pdpm-bench-fabric-shape-" + t);
            thread.setDaemon(true);
            thread.start();
            rates.add(rate);
        }
        return rates.stream().mapToLong(CompletableFuture::join).sum();
    }

    /**
     * {@link #sameShapeReadsPerSecond(List, RemoteRegion, int, long, long)} over {@code threads}
     * connections of their own to {@code node}, closed afterwards; reads from the first region's start.
     */
    public static long sameShapeReadsPerSecond(Fabric fabric, NodeAddress node, int threads, int inFlight,
                                               long warmupNanos, long nanos) {
        List<Connection> connections = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                connections.add(fabric.connect(node));
            }
            return sameShapeReadsPerSecond(connections, connections.get(0).node().firstRegion(), inFlight,
                    warmupNanos, nanos);
        } finally {
            connections.forEach(Connection::close);
        }
    }

    private static long synchronousReadsPerSecond(Connection c, RemoteRegion region, long offset, long warmupNanos,
                                                  long nanos) {
        long warmEnd = System.nanoTime() + warmupNanos;
        while (System.nanoTime() - warmEnd < 0) {
            c.read(region, offset, WORD_BYTES);
        }
        long start = System.nanoTime();
        long reads = 0;
        long now;
        do {
            c.read(region, offset, WORD_BYTES);
            reads++;
            now = System.nanoTime();
        } while (now - start < nanos);
        return Math.round(reads * 1e9 / (now - start));
    }

    /** Runs the pipeline for {@code nanos} and lets it drain; returns the verbs completed. */
    private static long pipeline(Connection connection, Batch[] slots, long nanos) {
        String nodeId = connection.node().nodeId();
        long end = System.nanoTime() + nanos;
        LongAdder completed = new LongAdder();
        CountDownLatch drained = new CountDownLatch(slots.length);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (Batch slot : slots) {
            new Slot(connection, slot, end, completed, drained, failure).post();
        }
        try {
            if (!drained.await(nanos + connection.timeoutNanos(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("pipeline to " + nodeId + " did not drain");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the pipeline ran", e);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("pipelined read on " + nodeId + " failed: " + failure.get().getMessage(),
                    failure.get());
        }
        return completed.sum();
    }

    /** One pipeline slot: re-posts its READ from its own completion until the deadline. */
    private static final class Slot implements BiConsumer<BatchResult, Throwable> {
        private final Connection connection;
        private final Batch batch;
        private final long endNanos;
        private final LongAdder completed;
        private final CountDownLatch drained;
        private final AtomicReference<Throwable> failure;

        Slot(Connection connection, Batch batch, long endNanos, LongAdder completed, CountDownLatch drained,
             AtomicReference<Throwable> failure) {
            this.connection = connection;
            this.batch = batch;
            this.endNanos = endNanos;
            this.completed = completed;
            this.drained = drained;
            this.failure = failure;
        }

        /** Posts until a completion is still outstanding; loops instead of recursing when it is not. */
        void post() {
            while (true) {
                CompletableFuture<BatchResult> f = connection.post(batch);
                if (!f.isDone()) {
                    f.whenComplete(this);
                    return;
                }
                Throwable error = f.isCompletedExceptionally() ? f.handle((r, e) -> e).join() : null;
                if (!completedGoOn(error)) {
                    return;
                }
            }
        }

        @Override
        public void accept(BatchResult result, Throwable error) {
            if (completedGoOn(error)) {
                post();
            }
        }

        /** Counts one completion; true when the slot should post again. */
        private boolean completedGoOn(Throwable error) {
            if (error != null) {
                failure.compareAndSet(null, error);
                drained.countDown();
                return false;
            }
            completed.increment();
            if (System.nanoTime() < endNanos) {
                return true;
            }
            drained.countDown();
            return false;
        }
    }

    private static double p50Micros(Histogram h) {
        return micros(h.getValueAtPercentile(50));
    }

    /** Nanoseconds as microseconds with three decimals, the histograms' own precision. */
    private static double micros(long nanos) {
        return nanos / 1000.0;
    }
}
