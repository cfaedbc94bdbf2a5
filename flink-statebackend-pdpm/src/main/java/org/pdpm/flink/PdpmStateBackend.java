package org.pdpm.flink;

import java.io.IOException;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.state.AbstractKeyedStateBackend;
import org.apache.flink.runtime.state.AbstractStateBackend;
import org.apache.flink.runtime.state.ConfigurableStateBackend;
import org.apache.flink.runtime.state.DefaultOperatorStateBackendBuilder;
import org.apache.flink.runtime.state.OperatorStateBackend;
import org.pdpm.flink.PdpmOptions.TimerService;
import org.pdpm.flink.backend.PdpmKeyedStateBackendBuilder;
import org.pdpm.flink.pool.PoolSpec;
import org.pdpm.flink.pool.StatePool;
import org.pdpm.flink.pool.StatePools;

/**
 * Flink's keyed state in a pDPM pool (DESIGN §4): TaskManagers keep no state of their own,
 * checkpoints pin epochs instead of copying, and restores fork lineages instead of downloading.
 * Selected with {@code state.backend.type: pdpm} (or this package's factory's class name);
 * configured with the {@code state.backend.pdpm.*} options of {@link PdpmOptions}. Operator
 * (non-keyed) state stays Flink's default, written to checkpoint storage.
 */
public class PdpmStateBackend extends AbstractStateBackend implements ConfigurableStateBackend {

    private static final long serialVersionUID = 1L;

    private final PoolSpec pool;
    private final TimerService timerService;
    private final MemorySize writeBuffer;
    private final MemorySize readCache;

    /** The embedded local pool with default sizes, store timers, the default write buffer and read cache. */
    public PdpmStateBackend() {
        this(PoolSpec.from(new org.apache.flink.configuration.Configuration()), TimerService.STORE,
                PdpmOptions.WRITE_BUFFER.defaultValue(), PdpmOptions.READ_CACHE.defaultValue());
    }

    public PdpmStateBackend(PoolSpec pool, TimerService timerService, MemorySize writeBuffer, MemorySize readCache) {
        this.pool = pool;
        this.timerService = timerService;
        this.writeBuffer = writeBuffer;
        this.readCache = readCache;
    }

    /** This backend as {@code config} sets it; an invalid option fails here, naming its key. */
    @Override
    public PdpmStateBackend configure(ReadableConfig config, ClassLoader classLoader)
            throws IllegalConfigurationException {
        PdpmStateBackend configured = new PdpmStateBackend(PoolSpec.from(config), config.get(PdpmOptions.TIMER_SERVICE),
                config.get(PdpmOptions.WRITE_BUFFER), config.get(PdpmOptions.READ_CACHE));
        configured.latencyTrackingConfigBuilder = latencyTrackingConfigBuilder.configure(config);
        configured.sizeTrackingConfigBuilder = sizeTrackingConfigBuilder.configure(config);
        return configured;
    }

    public PoolSpec pool() {
        return pool;
    }

    public TimerService timerService() {
        return timerService;
    }

    public MemorySize writeBuffer() {
        return writeBuffer;
    }

    public MemorySize readCache() {
        return readCache;
    }

    @Override
    public String getName() {
        return "pdpm";
    }

    @Override
    public <K> AbstractKeyedStateBackend<K> createKeyedStateBackend(KeyedStateBackendParameters<K> parameters)
            throws IOException {
        StatePool statePool = StatePools.get(pool);
        return new PdpmKeyedStateBackendBuilder<>(parameters, statePool, timerService == TimerService.HEAP,
                writeBuffer.getBytes(), readCache.getBytes(),
                latencyTrackingConfigBuilder.setMetricGroup(parameters.getMetricGroup()).build(),
                sizeTrackingConfigBuilder.setMetricGroup(parameters.getMetricGroup()).build()).build();
    }

    @Override
    public OperatorStateBackend createOperatorStateBackend(OperatorStateBackendParameters parameters)
            throws Exception {
        return new DefaultOperatorStateBackendBuilder(
                parameters.getEnv().getUserCodeClassLoader().asClassLoader(),
                parameters.getEnv().getExecutionConfig(),
                true,
                parameters.getStateHandles(),
                parameters.getCancelStreamRegistry()).build();
    }

    /** A restored checkpoint is only forked from, never written: two jobs may share it. */
    @Override
    public boolean supportsNoClaimRestoreMode() {
        return true;
    }

    @Override
    public boolean supportsSavepointFormat(SavepointFormatType formatType) {
        return true;
    }

    @Override
    public String toString() {
        return "PdpmStateBackend{" + pool + ", timers in " + timerService.name().toLowerCase() + ", write buffer "
                + writeBuffer.toHumanReadableString() + ", read cache " + readCache.toHumanReadableString() + "}";
    }
}
