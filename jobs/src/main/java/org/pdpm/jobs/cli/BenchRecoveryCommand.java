package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.pdpm.jobs.bench.FabricKind;
import org.pdpm.jobs.bench.Json;
import org.pdpm.jobs.bench.MachineInfo;
import org.pdpm.jobs.bench.MetadataRecoveryBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pdpm bench recovery}: how long Clover's metadata server takes to restart at N keys. */
@Command(
        name = "recovery",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Loads N keys into Clover, restarts its metadata server on the same memory nodes and reports",
            "how long the restart took (log replay, shortcut and block scans) as one JSON line."
        })
final class BenchRecoveryCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--fabric", paramLabel = "FABRIC", defaultValue = "local",
            description = "local (in this JVM) or tcp (a child 'pdpm memnode') (default: ${DEFAULT-VALUE}).")
    private FabricKind fabric;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "1000000",
            description = "Keys to load before the restart (default: ${DEFAULT-VALUE}).")
    private int keys;

    @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "16",
            description = "Bytes per value; the restart does not read values (default: ${DEFAULT-VALUE}).")
    private int valueSize;

    @Mixin
    private JsonLinesOutput output;

    @Override
    public Integer call() throws Exception {
        if (keys < 1) {
            throw new ParameterException(spec.commandLine(), "--keys=" + keys + " must be positive");
        }
        if (valueSize < 0) {
            throw new ParameterException(spec.commandLine(), "--value-size=" + valueSize + " must not be negative");
        }
        String line = Json.write(new MetadataRecoveryBenchmark(new MetadataRecoveryBenchmark.Settings(fabric, keys, valueSize))
                .run(PdpmCommand.class.getName(), MachineInfo.describe()));
        PrintWriter out = spec.commandLine().getOut();
        output.emit(out, line);
        return 0;
    }
}
