package org.pdpm.flink.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.ttl.TtlTimeProvider;
import org.junit.jupiter.api.Test;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmOptions.TimerService;
import org.pdpm.flink.PdpmStateBackend;
import org.pdpm.flink.pool.PoolSpec;

/** The store's own figures and the read cache's hit ratio (the cache on) in the operator's metric group, under "pdpm". */
class PdpmStoreMetricsTest {

    private static final int KEYS = 100;

    @Test
    void figuresFollowWhatTheTaskDid() throws Exception {
        JobID job = new JobID();
        PdpmStateBackend cached = new PdpmStateBackend(PoolSpec.from(new Configuration()), TimerService.STORE,
                PdpmOptions.WRITE_BUFFER.defaultValue(), MemorySize.parse("1mb"));
        try (BackendHarness harness = new BackendHarness(cached)) {
            Recording first = new Recording();
            AbstractKeyedStateBackend<Integer> writer = harness.open(job, new KeyGroupRange(0,
                    BackendHarness.KEY_GROUPS - 1), List.of(), TtlTimeProvider.DEFAULT, first);
            KeyedStateHandle handle;
            try {
                for (int k = 0; k < KEYS; k++) {
                    BackendHarness.put(writer, k, "v" + k);
                }
                handle = BackendHarness.checkpoint(writer, 1);   // writes the buffer to the store
                for (int round = 0; round < 2; round++) {
                    for (int k = 0; k < KEYS; k++) {
                        assertThat(BackendHarness.get(writer, k)).isEqualTo("v" + k);
                    }
                }
                BackendHarness.put(writer, 7, "seven");               // a write updates the cached value
                BackendHarness.checkpoint(writer, 2);
                assertThat(BackendHarness.get(writer, 7)).isEqualTo("seven");
                assertThat(first.value("puts")).isEqualTo(KEYS + 1L);
                assertThat(first.value("gets")).as("only the first read of each key reaches the store")
                        .isEqualTo((long) KEYS);
                assertThat((Double) first.value("readCacheHitRatio")).isEqualTo((KEYS + 1.0) / (2 * KEYS + 1));
                assertThat(first.value("lineages")).isEqualTo(1);
                assertThat((Double) first.value("roundTripsPerPut")).isGreaterThan(0.0);
            } finally {
                writer.dispose();
            }

            Recording restored = new Recording();
            AbstractKeyedStateBackend<Integer> reader = harness.open(job, new KeyGroupRange(0,
                    BackendHarness.KEY_GROUPS - 1), List.of(handle), TtlTimeProvider.DEFAULT, restored);
            try {
                for (int round = 0; round < 2; round++) {
                    for (int k = 0; k < KEYS; k++) {
                        assertThat(BackendHarness.get(reader, k)).isEqualTo("v" + k);
                    }
                }
                assertThat(restored.value("gets")).as("only the first read of each key reaches the store")
                        .isEqualTo((long) KEYS);
                assertThat(restored.value("readCacheHitRatio")).isEqualTo(0.5);
                assertThat((Double) restored.value("roundTripsPerGet")).isGreaterThanOrEqualTo(1.0);
                assertThat((Double) restored.value("cacheHitRatio")).isBetween(0.0, 1.0);
            } finally {
                reader.dispose();
            }
        }
    }

    /** A metric group that keeps the gauges registered under "pdpm". */
    private static final class Recording extends UnregisteredMetricsGroup {
        private final Map<String, Gauge<?>> gauges = new ConcurrentHashMap<>();

        @Override
        public MetricGroup addGroup(String name) {
            return name.equals(StoreMetrics.GROUP) ? this : super.addGroup(name);
        }

        @Override
        public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
            gauges.put(name, gauge);
            return gauge;
        }

        Object value(String name) {
            assertThat(gauges).containsKey(name);
            return gauges.get(name).getValue();
        }
    }
}
