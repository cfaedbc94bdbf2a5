package org.pdpm.jobs.sample;

import java.io.IOException;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.KeyedStateBackendParametersImpl;
import org.apache.flink.runtime.state.StateBackendFactory;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;

/**
 * A broken backend for negative tests: the heap backend, except that a restore forgets all keyed
 * state (and heap timers) while the source still resumes from the checkpoint. A correct result
 * check must call its output wrong. Selected by configuration like any backend: its class name
 * as {@code state.backend.type}.
 */
public final class AmnesicStateBackendFactory implements StateBackendFactory<AmnesicStateBackendFactory.Backend> {

    @Override
    public Backend createFromConfig(ReadableConfig config, ClassLoader classLoader) {
        return new Backend();
    }

    /** Restores nothing. */
    public static final class Backend extends HashMapStateBackend {
        private static final long serialVersionUID = 1L;

        @Override
        public <K> AbstractKeyedStateBackend<K> createKeyedStateBackend(KeyedStateBackendParameters<K> parameters)
                throws IOException {
            return super.createKeyedStateBackend(new KeyedStateBackendParametersImpl<>(parameters).setStateHandles(List.of()));
        }
    }
}
