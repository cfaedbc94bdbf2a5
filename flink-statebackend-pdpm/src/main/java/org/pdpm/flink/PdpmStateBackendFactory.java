package org.pdpm.flink;

import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.runtime.state.StateBackendFactory;

/**
 * What {@code state.backend.type: org.pdpm.flink.PdpmStateBackendFactory} (or the short
 * {@code pdpm}, through the alias class of that name) loads.
 */
public class PdpmStateBackendFactory implements StateBackendFactory<PdpmStateBackend> {

    @Override
    public PdpmStateBackend createFromConfig(ReadableConfig config, ClassLoader classLoader)
            throws IllegalConfigurationException {
        return new PdpmStateBackend().configure(config, classLoader);
    }
}
