package org.pdpm.jobs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.pdpm.jobs.bench.BenchTarget;
import org.pdpm.jobs.bench.FabricBenchmark;
import org.pdpm.jobs.bench.FabricKind;
import org.pdpm.jobs.bench.Json;
import org.pdpm.jobs.bench.MachineInfo;
import org.pdpm.jobs.bench.ResultTable;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pdpm bench fabric}: the fabrics side by side in one run, one JSON line each on stdout
 * (and appended to {@code --out}), a table for people on stderr.
 */
@Command(
        name = "fabric",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Measures each fabric against one memory node: the transport's floor (an empty batch), an 8-byte read,",
            "a 4 KiB write + flush, a CAS, a batch of 32 reads, and pipelined single reads from one thread.",
            "Prints one JSON line per fabric to stdout and a side-by-side table to stderr.",
            "A fabric that cannot run here (disni without RDMA) is reported on stderr and left out."
        })
final class BenchFabricCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(BenchFabricCommand.class);

    @Spec
    private CommandSpec spec;

    @Option(names = "--fabric", split = ",", paramLabel = "FABRIC", defaultValue = "local,tcp",
            description = "Fabrics to measure, comma-separated, from local, tcp, disni (default: ${DEFAULT-VALUE}).")
    private List<FabricKind> fabrics;

    @Option(names = "--memnodes", paramLabel = "HOST:PORT", converter = NodeAddressConverter.class,
            description = "Memory node to measure on tcp and disni; the benchmark overwrites the first "
                    + FabricBenchmark.FOOTPRINT_BYTES + " bytes of its region. Without it, tcp runs against a "
                    + "child 'pdpm memnode' started for the run.")
    private NodeAddress memnode;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding the secret of the --memnodes node (one line).")
    private Path secretFile;

    @Mixin
    private JsonLinesOutput output;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "20000",
            description = "Measured operations per latency figure (default: ${DEFAULT-VALUE}).")
    private int iterations;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5000",
            description = "Warm-up rounds of every operation before anything is measured; each figure then settles "
                    + "with a tenth as many of its own (default: ${DEFAULT-VALUE}).")
    private int warmup;

    @Option(names = "--duration-ms", paramLabel = "MS", defaultValue = "3000",
            description = "How long the pipelined throughput is measured, after a warm-up of a quarter of it "
                    + "(default: ${DEFAULT-VALUE}).")
    private long durationMillis;

    @Option(names = "--pipeline-depth", paramLabel = "N", defaultValue = "64",
            description = "Requests in flight in the pipelined throughput figure, 1.."
                    + FabricBenchmark.MAX_PIPELINE_DEPTH + " (default: ${DEFAULT-VALUE}).")
    private int pipelineDepth;

    @Override
    public Integer call() throws IOException {
        FabricBenchmark.Settings settings = settings();
        String secret = secret();
        Map<String, Object> machine = MachineInfo.describe();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<FabricBenchmark.Result> results = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (FabricKind kind : new LinkedHashSet<>(fabrics)) {
            FabricBenchmark.Result result;
            try (BenchTarget target = BenchTarget.open(kind, memnode, secret, PdpmCommand.class.getName())) {
                LOG.info("measuring {}", target.fabricName());
                result = new FabricBenchmark(target.connection(), settings).run(target.fabricName());
            } catch (FabricException e) {
                if (e.status() != FabricException.Status.UNAVAILABLE) {
                    throw e;
                }
                err.println(spec.qualifiedName() + ": " + kind.label() + " left out: " + PdpmCommand.reason(e));
                err.flush();
                skipped.add(kind.label());
                continue;
            }
            String line = Json.write(result.toJson(machine));
            output.emit(out, line);
            results.add(result);
        }
        if (results.isEmpty()) {
            throw new IllegalStateException("no fabric could run here (left out: " + String.join(", ", skipped) + ")");
        }
        err.print(ResultTable.format(results));
        err.flush();
        return 0;
    }

    private FabricBenchmark.Settings settings() {
        require(iterations >= 1, "--iterations=" + iterations + " must be positive");
        require(warmup >= 0, "--warmup=" + warmup + " must not be negative");
        require(durationMillis >= 1, "--duration-ms=" + durationMillis + " must be positive");
        require(pipelineDepth >= 1 && pipelineDepth <= FabricBenchmark.MAX_PIPELINE_DEPTH,
                "--pipeline-depth=" + pipelineDepth + " is outside 1.." + FabricBenchmark.MAX_PIPELINE_DEPTH);
        long nanos = TimeUnit.MILLISECONDS.toNanos(durationMillis);
        return new FabricBenchmark.Settings(warmup, iterations, nanos / 4, nanos, pipelineDepth);
    }

    private void require(boolean valid, String reason) {
        if (!valid) {
            throw new ParameterException(spec.commandLine(), reason);
        }
    }

    private String secret() {
        if (secretFile == null) {
            return null;
        }
        if (memnode == null) {
            throw new ParameterException(spec.commandLine(),
                    "--secret-file is the secret of --memnodes; the child memory node gets a fresh one");
        }
        try {
            return SecretFile.read(secretFile);
        } catch (IllegalArgumentException e) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
