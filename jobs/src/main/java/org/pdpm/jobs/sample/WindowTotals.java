package org.pdpm.jobs.sample;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Count and sum of a user's purchases per tumbling event-time window (window state and timers). */
final class WindowTotals {

    private WindowTotals() {}

    static final class Sum implements AggregateFunction<Purchase, Totals, Totals> {
        private static final long serialVersionUID = 1L;

        @Override
        public Totals createAccumulator() {
            return new Totals();
        }

        @Override
        public Totals add(Purchase purchase, Totals acc) {
            acc.add(purchase.amount);
            return acc;
        }

        @Override
        public Totals getResult(Totals acc) {
            return acc;
        }

        @Override
        public Totals merge(Totals a, Totals b) {
            a.count += b.count;
            a.sum += b.sum;
            return a;
        }
    }

    static final class Emit extends ProcessWindowFunction<Totals, ResultRow, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long user, Context context, Iterable<Totals> sums, Collector<ResultRow> out) {
            for (Totals t : sums) {
                out.collect(ResultRow.window(user, context.window().getStart(), t.count, t.sum));
            }
        }
    }
}
