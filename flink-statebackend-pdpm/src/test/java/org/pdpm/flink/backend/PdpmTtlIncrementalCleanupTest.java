package org.pdpm.flink.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.pdpm.flink.pool.StatePools;

/**
 * TTL's incremental clean-up on the pdpm backend: after the time to live, state accesses on other
 * keys remove expired entries from the store a few at a time, through the states' store visitors,
 * without the expired keys ever being read. (Flink's own templates for it inspect the heap
 * backend's tables.) Budget: a few seconds.
 */
class PdpmTtlIncrementalCleanupTest {

    private static final int KEYS = 100;
    private final BackendHarness harness = new BackendHarness();
    private final AtomicLong now = new AtomicLong(1_000);

    @AfterEach
    void close() throws Exception {
        harness.close();
        StatePools.closeAll();
    }

    private static StateTtlConfig ttl() {
        return StateTtlConfig.newBuilder(Duration.ofMillis(100)).cleanupIncrementally(5, false).build();
    }

    @Test
    void expiredValuesListsAndMapsLeaveTheStoreAsOtherKeysAreAccessed() throws Exception {
        AbstractKeyedStateBackend<Integer> b = harness.open(new JobID(), new KeyGroupRange(0, 9), List.of(), now::get);
        ValueStateDescriptor<String> vd = new ValueStateDescriptor<>("v", String.class);
        ListStateDescriptor<String> ld = new ListStateDescriptor<>("l", String.class);
        MapStateDescriptor<Integer, String> md = new MapStateDescriptor<>("m", Integer.class, String.class);
        vd.enableTimeToLive(ttl());
        ld.enableTimeToLive(ttl());
        md.enableTimeToLive(ttl());
        ValueState<String> v = b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, vd);
        ListState<String> l = b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, ld);
        MapState<Integer, String> m = b.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, md);
        for (int k = 0; k < KEYS; k++) {
            b.setCurrentKey(k);
            v.update("v" + k);
            l.add("l" + k);
            m.put(1, "a");
            m.put(2, "b");
        }
        int entries = b.numKeyValueStateEntries();
        assertThat(entries).isEqualTo(KEYS * 4);

        now.addAndGet(1_000);   // everything written so far has expired
        b.setCurrentKey(-1);
        for (int i = 0; i < 200; i++) {
            v.value();          // each access cleans up to 5 entries of each state
            l.get();
            m.get(1);
        }
        assertThat(b.numKeyValueStateEntries()).isZero();
        b.dispose();
    }
}
