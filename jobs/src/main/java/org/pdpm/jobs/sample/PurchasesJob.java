package org.pdpm.jobs.sample;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;

/**
 * The sample keyed job {@value #NAME}: a bounded, seeded stream of purchases (user, item, amount,
 * event time), keyed by user, into (1) a process function keeping value state, map state and an
 * event-time timer and (2) a tumbling event-time window aggregate; both feed an upsert sink keyed
 * by (kind, user, window).
 *
 * <p>The source is Flink's checkpointed {@link NumberSequenceSource} read by one subtask, so event
 * time is monotonous and watermarks are exact; the keyed operators and the sink run at the
 * configured parallelism.
 */
public final class PurchasesJob {

    public static final String NAME = "purchases";

    private PurchasesJob() {}

    /**
     * Adds the job to {@code env}.
     *
     * @param runId names the run's result table and probe in this JVM
     * @param failAtIndex the generator throws once at or after this event, once a checkpoint has
     *     completed; -1 for no injected exception
     */
    static void addTo(StreamExecutionEnvironment env, SampleJobSettings settings, String runId, long failAtIndex) {
        WatermarkStrategy<Long> eventTime = WatermarkStrategy.<Long>forMonotonousTimestamps()
                .withTimestampAssigner((SerializableTimestampAssigner<Long>) (index, previous) ->
                        PurchaseGenerator.timestampOf(index));
        DataStream<Purchase> purchases = env
                .fromSource(new NumberSequenceSource(0, settings.events() - 1), eventTime, "purchase-sequence")
                .uid("purchase-sequence")
                .setParallelism(1)
                .map(new GeneratePurchases(settings.generator(), runId, settings.eventsPerSecond(), failAtIndex))
                .name("generate-purchases")
                .uid("generate-purchases")
                .setParallelism(1);

        KeyedStream<Purchase, Long> byUser = purchases.keyBy(p -> p.user, Types.LONG);

        DataStream<ResultRow> userTotals = byUser
                .process(new UserTotalsFunction(runId))
                .name("user-totals")
                .uid("user-totals");
        DataStream<ResultRow> windowTotals = byUser
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(settings.windowMillis())))
                .aggregate(new WindowTotals.Sum(), new WindowTotals.Emit())
                .name("window-totals")
                .uid("window-totals");

        userTotals.union(windowTotals)
                .sinkTo(new UpsertTableSink(runId))
                .name("upsert-table")
                .uid("upsert-table");
    }
}
