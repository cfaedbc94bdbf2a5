package org.pdpm.flink.minicluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.Collector;

/**
 * A keyed job whose exact result is known: event {@code i} of a seeded, checkpointed sequence goes
 * to key {@code key(i)}; per key it counts events in value state and per residue class in map
 * state. Its counts are published (the largest each key reached, so a replay cannot hide a double
 * count) for the test to compare with what the sequence implies.
 */
final class CountingJob {

    /** Largest count each key reached, over all attempts of the job. */
    static final Map<Long, Long> COUNTS = new ConcurrentHashMap<>();
    /**
     * Windows whose timer fired, per key, over all attempts. Distinct windows, not firings: after a
     * rescale a source reader may take over a second split, whose events are then late, and a late
     * event's timer fires again at once — Flink's semantics, not the backend's.
     */
    static final Map<Long, Long> FIRED = new ConcurrentHashMap<>();
    /** Event time is the event's index; each key has a timer at the end of every window it had events in. */
    static final long WINDOW = 1_000;
    /** Events processed, replays included: progress for the test to wait on. */
    static final AtomicLong PROCESSED = new AtomicLong();

    private CountingJob() {
    }

    static void reset() {
        COUNTS.clear();
        FIRED.clear();
        PROCESSED.set(0);
    }

    /** Key of event {@code i}: the first {@code distinct} events each get a key of their own, then they repeat. */
    static long key(long i, long distinct) {
        return i < distinct ? i : i % distinct;
    }

    /**
     * @param trickleAfterDistinct once every key has its state, emit about one event per millisecond
     *                             per source subtask, so that no backlog of records delays a barrier
     */
    static JobClient start(Configuration config, int parallelism, long events, long distinctKeys, double perSecond,
                           boolean trickleAfterDistinct, long checkpointMillis, String savepoint) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setParallelism(parallelism);
        env.setMaxParallelism(16);
        env.enableCheckpointing(checkpointMillis);
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(new Events(distinctKeys, trickleAfterDistinct),
                events, RateLimiterStrategy.perSecond(perSecond), Types.LONG);
        env.fromSource(source, WatermarkStrategy.<Long>forMonotonousTimestamps().withTimestampAssigner((e, t) -> e),
                        "events").uid("events")
                .keyBy(i -> key(i, distinctKeys))
                .process(new Count()).uid("count")
                .sinkTo(new DiscardingSink<>()).uid("sink");
        StreamGraph graph = env.getStreamGraph();
        if (savepoint != null) {
            graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
        }
        return env.executeAsync(graph);
    }

    /** Event {@code i} is the number {@code i}; optionally slowed down after the distinct keys. */
    private record Events(long distinct, boolean trickle) implements GeneratorFunction<Long, Long> {
        @Override
        public Long map(Long i) throws Exception {
            if (trickle && i >= distinct) {
                Thread.sleep(1);
            }
            return i;
        }
    }

    static final class Count extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<Long> count;
        private transient MapState<Integer, Long> byResidue;
        private transient MapState<Long, Boolean> fired;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            fired = getRuntimeContext().getMapState(new MapStateDescriptor<>("fired", Long.class, Boolean.class));
            byResidue = getRuntimeContext().getMapState(new MapStateDescriptor<>("by-residue", Integer.class,
                    Long.class));
        }

        @Override
        public void processElement(Long event, Context ctx, Collector<Long> out) throws Exception {
            long n = count.value() == null ? 1 : count.value() + 1;
            count.update(n);
            int residue = (int) (event % 3);
            Long r = byResidue.get(residue);
            byResidue.put(residue, r == null ? 1 : r + 1);
            long mapTotal = 0;
            for (Long v : byResidue.values()) {
                mapTotal += v;
            }
            if (mapTotal != n) {
                throw new IllegalStateException("key " + ctx.getCurrentKey() + ": value state says " + n
                        + " events, map state " + mapTotal);
            }
            ctx.timerService().registerEventTimeTimer((event / WINDOW + 1) * WINDOW - 1);
            COUNTS.merge(ctx.getCurrentKey(), n, Math::max);
            PROCESSED.incrementAndGet();
            out.collect(n);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<Long> out) throws Exception {
            fired.put(timestamp, true);
            long n = 0;
            for (Long ignored : fired.keys()) {
                n++;
            }
            FIRED.merge(ctx.getCurrentKey(), n, Math::max);
        }
    }
}
