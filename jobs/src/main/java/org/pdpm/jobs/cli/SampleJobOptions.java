package org.pdpm.jobs.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.pdpm.jobs.sample.SampleJobSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The sample job's options, shared by {@code pdpm demo} and {@code pdpm job}. */
final class SampleJobOptions {

    @Option(names = "--events", paramLabel = "N", defaultValue = "" + DEFAULT_EVENTS,
            description = "Purchases to generate (default: ${DEFAULT-VALUE}).")
    private long events;

    @Option(names = "--parallelism", paramLabel = "P", defaultValue = "2",
            description = "Parallelism of the keyed operators and the sink (default: ${DEFAULT-VALUE}).")
    private int parallelism;

    @Option(names = "--users", paramLabel = "N", defaultValue = "" + SampleJobSettings.DEFAULT_USERS,
            description = "Distinct users, the job's keys (default: ${DEFAULT-VALUE}).")
    private int users;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + SampleJobSettings.DEFAULT_SEED,
            description = "Seed of the generated purchases (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--rate", paramLabel = "EVENTS_PER_S", defaultValue = "0",
            description = "Cap on the input rate, 0 for none; a cap keeps a small run long enough for a failure midway (default: ${DEFAULT-VALUE}).")
    private long eventsPerSecond;

    @Option(names = "--checkpoint-interval", paramLabel = "MS", defaultValue = "1000",
            description = "Milliseconds between checkpoints (default: ${DEFAULT-VALUE}).")
    private long checkpointIntervalMillis;

    @Option(names = "--flink-log", paramLabel = "LEVEL", defaultValue = "error",
            description = "Level of Flink's own log lines on stderr: off, error, warn, info, debug (default: ${DEFAULT-VALUE}); "
                    + "at warn, the killed TaskManager's tasks log their failure with stack traces.")
    private String flinkLogLevel;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
            description = "A Flink option for the job, repeatable, e.g. execution.checkpointing.incremental=true or a "
                    + "state.backend.pdpm.* option; it wins over the command's own settings.")
    private Map<String, String> flinkConfiguration = new LinkedHashMap<>();

    /**
     * Sized so that pdpm and rocksdb together take well under 3 minutes on a busy 2-core machine
     * and the state (about 100,000 map entries) fits pdpm's default embedded pool.
     */
    static final long DEFAULT_EVENTS = 300_000;
    /** The expected result keeps a count per user and item in memory. */
    static final int MAX_USERS = 1_000_000;

    /** Sets the level of the org.apache.flink loggers for the rest of this process. */
    void applyFlinkLogLevel(CommandSpec spec) {
        Level level = Level.toLevel(flinkLogLevel, null);
        require(spec, level != null, "--flink-log=" + flinkLogLevel + " is not a log level");
        Configurator.setLevel("org.apache.flink", level);
    }

    SampleJobSettings settings(CommandSpec spec) {
        require(spec, events >= 1, "--events=" + events + " must be positive");
        require(spec, parallelism >= 1, "--parallelism=" + parallelism + " must be positive");
        require(spec, users >= 1 && users <= MAX_USERS, "--users=" + users + " must be in 1.." + MAX_USERS);
        require(spec, eventsPerSecond >= 0, "--rate=" + eventsPerSecond + " must not be negative");
        require(spec, checkpointIntervalMillis >= 10, "--checkpoint-interval=" + checkpointIntervalMillis + " must be at least 10");
        return new SampleJobSettings(events, users, SampleJobSettings.DEFAULT_ITEMS, seed,
                SampleJobSettings.DEFAULT_WINDOW_MILLIS, parallelism, eventsPerSecond);
    }

    Map<String, String> flinkConfiguration() {
        return flinkConfiguration;
    }

    long checkpointIntervalMillis() {
        return checkpointIntervalMillis;
    }

    private static void require(CommandSpec spec, boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
