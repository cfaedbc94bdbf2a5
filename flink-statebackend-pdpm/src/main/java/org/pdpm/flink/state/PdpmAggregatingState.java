package org.pdpm.flink.state;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.internal.InternalAggregatingState;

/** Aggregating state: the accumulator per (key, namespace); {@code get} is the aggregate's result. */
public final class PdpmAggregatingState<K, N, IN, ACC, OUT> extends MergingPdpmState<K, N, ACC>
        implements InternalAggregatingState<K, N, IN, ACC, OUT> {

    private AggregateFunction<IN, ACC, OUT> aggregate;

    public PdpmAggregatingState(StateAccess<K> backend, int stateId, TypeSerializer<N> namespaceSerializer,
                                TypeSerializer<ACC> valueSerializer, AggregateFunction<IN, ACC, OUT> aggregate) {
        super(backend, stateId, namespaceSerializer, valueSerializer);
        this.aggregate = aggregate;
    }

    public void setAggregateFunction(AggregateFunction<IN, ACC, OUT> aggregate) {
        this.aggregate = aggregate;
    }

    @Override
    protected ACC merge(ACC a, ACC b) {
        return aggregate.merge(a, b);
    }

    @Override
    public OUT get() {
        ACC acc = getInternal();
        return acc == null ? null : aggregate.getResult(acc);
    }

    @Override
    public void add(IN value) {
        ACC acc = getInternal();
        if (acc == null) {
            acc = aggregate.createAccumulator();
        }
        updateInternal(aggregate.add(value, acc));
    }
}
