package org.pdpm.jobs.sample;

import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Per user: the running count and sum of amounts in value state, the count per item in map state,
 * and one event-time timer at the end of input that emits them. Everything it emits comes from
 * state, so a lost update, or an event counted twice after a restore, shows in the result.
 */
final class UserTotalsFunction extends KeyedProcessFunction<Long, Purchase, ResultRow> {

    private static final long serialVersionUID = 1L;

    /** Fires only on the final watermark, which a bounded source emits at its end. */
    static final long END_OF_INPUT = Long.MAX_VALUE;

    private final String runId;

    private transient ValueState<Totals> totals;
    private transient MapState<Integer, Long> itemCounts;
    private transient RunProbe probe;
    private transient int attempt;
    private transient boolean processedOne;
    private transient boolean timerFired;

    UserTotalsFunction(String runId) {
        this.runId = runId;
    }

    @Override
    public void open(OpenContext openContext) {
        totals = getRuntimeContext().getState(new ValueStateDescriptor<>("totals", Totals.class));
        itemCounts = getRuntimeContext().getMapState(new MapStateDescriptor<>("item-counts", Types.INT, Types.LONG));
        probe = RunProbe.of(runId);
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
    }

    @Override
    public void processElement(Purchase purchase, Context ctx, Collector<ResultRow> out) throws Exception {
        if (!processedOne) {
            processedOne = true;
            probe.firstRecordOfAttempt(attempt, System.nanoTime());
        }
        Totals t = totals.value();
        if (t == null) {
            t = new Totals();
            ctx.timerService().registerEventTimeTimer(END_OF_INPUT);
        }
        t.add(purchase.amount);
        totals.update(t);
        Long count = itemCounts.get(purchase.item);
        itemCounts.put(purchase.item, count == null ? 1L : count + 1);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ResultRow> out) throws Exception {
        if (!timerFired) {
            timerFired = true;
            probe.endOfInput(System.nanoTime());
        }
        Totals t = totals.value();
        long distinct = 0;
        long digest = 0;
        for (Map.Entry<Integer, Long> e : itemCounts.entries()) {
            distinct++;
            digest += PurchaseGenerator.itemDigestTerm(e.getKey(), e.getValue());
        }
        out.collect(ResultRow.userTotal(ctx.getCurrentKey(), t.count, t.sum, distinct, digest));
    }
}
