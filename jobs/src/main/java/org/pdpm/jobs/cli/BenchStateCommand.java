package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.pdpm.jobs.bench.Json;
import org.pdpm.jobs.bench.MachineInfo;
import org.pdpm.jobs.bench.StateBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pdpm bench state}: Flink keyed-state operations and checkpoint/restore times per backend, side by side. */
@Command(
        name = "state",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Flink keyed-state micro-benchmarks (value get/update, list add/get, map get/put/iterate) over the",
            "same keys, then checkpoint duration, bytes and restore time (builder start to first state access)",
            "at each --checkpoint-keys size: the first checkpoint after loading the keys, then the median of "
                    + "five steady ones, each after 1,000 distinct keys were updated, for every backend in one run. pdpm runs on its embedded local pool; its "
                    + "buffered writes are timed until they reach the store.",
            "One JSON line per measurement."
        })
final class BenchStateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--backend", split = ",", paramLabel = "B[,B...]", defaultValue = "pdpm,rocksdb,hashmap",
            description = "Backends among pdpm, pdpm-writethrough (pdpm without its write buffer), rocksdb, hashmap"
                    + " (default: ${DEFAULT-VALUE}).")
    private List<String> backends;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "100000",
            description = "Keys the operations spread over (default: ${DEFAULT-VALUE}).")
    private int keys;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "200000",
            description = "Operations per measured kind (default: ${DEFAULT-VALUE}).")
    private int ops;

    @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "100",
            description = "Bytes per value (default: ${DEFAULT-VALUE}).")
    private int valueSize;

    @Option(names = "--checkpoint-keys", split = ",", paramLabel = "N[,N...]", defaultValue = "1000,100000,1000000",
            description = "State sizes (keys) to checkpoint and restore (default: ${DEFAULT-VALUE}).")
    private List<Integer> checkpointKeys;

    @Option(names = "--local-size", paramLabel = "SIZE", defaultValue = "2g", converter = ByteSize.Converter.class,
            description = "Memory node size of pdpm's embedded pool (default: ${DEFAULT-VALUE}).")
    private long localSize;

    @Option(names = "--write-buffer", paramLabel = "SIZE", defaultValue = "64m", converter = ByteSize.OrZeroConverter.class,
            description = "pdpm's state.backend.pdpm.write-buffer (default: ${DEFAULT-VALUE}, as the backend's).")
    private long writeBuffer;

    @Option(names = "--read-cache", paramLabel = "SIZE", defaultValue = "0", converter = ByteSize.OrZeroConverter.class,
            description = "pdpm's state.backend.pdpm.read-cache (default: ${DEFAULT-VALUE}, off, as the backend's).")
    private long readCache;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Mixin
    private JsonLinesOutput output;

    @Override
    public Integer call() throws Exception {
        for (String b : backends) {
            if (!StateBenchmark.BACKENDS.contains(b.toLowerCase(Locale.ROOT))) {
                throw new ParameterException(spec.commandLine(), "--backend=" + b + " is not one of "
                        + StateBenchmark.BACKENDS);
            }
        }
        if (keys < 1 || ops < 1 || valueSize < 0 || checkpointKeys.stream().anyMatch(k -> k < 1)) {
            throw new ParameterException(spec.commandLine(),
                    "--keys, --ops and --checkpoint-keys must be positive, --value-size not negative");
        }
        Path work = Files.createTempDirectory("pdpm-bench-state-");
        PrintWriter out = spec.commandLine().getOut();
        try {
            new StateBenchmark(new StateBenchmark.Settings(backends, keys, ops, valueSize, checkpointKeys, seed,
                    localSize, writeBuffer, readCache, work)).run(MachineInfo.describe(), r -> {
                        try {
                            output.emit(out, Json.write(r));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
        } finally {
            org.apache.flink.util.FileUtils.deleteDirectory(work.toFile());
        }
        return 0;
    }
}
