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
import org.pdpm.jobs.bench.FabricKind;
import org.pdpm.jobs.bench.Json;
import org.pdpm.jobs.bench.KeyChooser;
import org.pdpm.jobs.bench.KeySpace;
import org.pdpm.jobs.bench.KvBenchmark;
import org.pdpm.jobs.bench.KvResultTable;
import org.pdpm.jobs.bench.LineageDeployment;
import org.pdpm.jobs.bench.MachineInfo;
import org.pdpm.jobs.bench.StoreDeployment;
import org.pdpm.jobs.bench.SystemKind;
import org.pdpm.jobs.bench.ThroughputChart;
import org.pdpm.jobs.bench.Workload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code pdpm bench kv}: the key-value stores side by side on a YCSB workload. Each system is
 * stood up once, loaded and warmed, then measured at each thread count; one JSON line per
 * (system, threads) goes to stdout (and is appended to {@code --out}), a table to stderr.
 */
@Command(
        name = "kv",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Measures key-value stores on a YCSB workload: a load phase writes every key once (timed, not measured),",
            "each store then reads every key once (warm caches), then each thread count runs GETs and PUTs in the",
            "workload's mix on keys drawn from a scrambled Zipfian (or uniform) distribution.",
            "Clover runs an embedded metadata server and one client per thread (each with its own cache, like",
            "separate compute nodes); on tcp its R memory nodes are child 'pdpm memnode' processes.",
            "RocksDB runs in a temporary directory with a synced WAL, shared by the threads, off any fabric",
            "(reported as fabric \"none\").",
            "With --in-flight N each thread keeps up to N GETs in flight (KvStore.getAsync); PUTs stay synchronous.",
            "A read-only workload (c) then chains each GET from the completion of the one before, as an",
            "asynchronous client does.",
            "On tcp, right after each run, the fabric's pipelined 8-byte READ rate from one thread at a depth of",
            "threads x in-flight is measured against the first memory node (0.25 s warm-up, 1 s measured), and",
            "the run's round trips per second are given as a share of it (fabric_target_ratio). Then 8-byte READs",
            "in the run's own shape, as many threads each synchronous or with as many in flight (1 s measured):",
            "the share of that (fabric_same_shape_ratio) is what the store costs apart from the thread structure.",
            "Prints one JSON line per (system, threads) to stdout and a side-by-side table to stderr."
        })
final class BenchKvCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(BenchKvCommand.class);

    @Spec
    private CommandSpec spec;

    @Option(names = "--system", required = true, split = ",", paramLabel = "SYSTEM",
            description = "Systems to measure, comma-separated, from clover, direct, central, rocksdb.")
    private List<SystemKind> systems;

    @Option(names = "--fabric", defaultValue = "local", paramLabel = "FABRIC",
            description = "Where Clover's memory nodes live: local (in this JVM) or tcp (child processes) "
                    + "(default: ${DEFAULT-VALUE}).")
    private FabricKind fabric;

    @Option(names = "--workload", defaultValue = "a", paramLabel = "WORKLOAD", converter = WorkloadConverter.class,
            description = "a (50 %% updates), b (5 %%), c (read only) or write-only (default: ${DEFAULT-VALUE}).")
    private Workload workload;

    @Option(names = "--keys", defaultValue = "100000", paramLabel = "N",
            description = "Keys loaded before the runs and drawn from in them (default: ${DEFAULT-VALUE}).")
    private long keys;

    @Option(names = "--ops", defaultValue = "100000", paramLabel = "N",
            description = "Operations of each run, split over its threads (default: ${DEFAULT-VALUE}).")
    private long ops;

    @Option(names = "--duration-ms", paramLabel = "MS",
            description = "Run each configuration this long instead of for --ops operations.")
    private Long durationMillis;

    @Option(names = "--warmup", defaultValue = "25", paramLabel = "PERCENT",
            description = "Before each configuration is measured, run it unmeasured for this share of its --ops (or "
                    + "--duration-ms), so that the JIT has compiled what is measured; 0..100 (default: ${DEFAULT-VALUE}).")
    private int warmupPercent;

    @Option(names = "--value-size", defaultValue = "1000", paramLabel = "BYTES",
            description = "Size of every value (default: ${DEFAULT-VALUE}).")
    private int valueBytes;

    @Option(names = "--threads", defaultValue = "1,2,4", split = ",", paramLabel = "T",
            description = "Thread counts to run, comma-separated; each is one configuration (default: ${DEFAULT-VALUE}).")
    private List<Integer> threads;

    @Option(names = "--in-flight", defaultValue = "1", paramLabel = "N",
            description = "GETs each thread keeps in flight, 1.." + KvBenchmark.MAX_IN_FLIGHT
                    + "; 1 runs every operation synchronously (default: ${DEFAULT-VALUE}).")
    private int inFlight;

    @Option(names = "--zipf", defaultValue = "0.99", paramLabel = "THETA",
            description = "Skew of the scrambled Zipfian key choice, in (0, 1) (default: ${DEFAULT-VALUE}).")
    private double theta;

    @Option(names = "--uniform",
            description = "Choose keys uniformly instead of by the Zipfian distribution.")
    private boolean uniform;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N",
            description = "Seed of every random choice (keys, operations, values) (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--replication", defaultValue = "1", paramLabel = "R",
            description = "Copies of every value on Clover's memory nodes, 1..3; R nodes are started "
                    + "(default: ${DEFAULT-VALUE}).")
    private int replication;

    @Option(names = "--lineage", defaultValue = "0", paramLabel = "OPS",
            description = "Also run direct and central through lineages (as system direct+lineage, central+lineage), "
                    + "beside the plain store: each thread writes its own lineage forked from the loaded one and "
                    + "checkpoints (pin, advance the epoch, release the checkpoint before) every OPS of its "
                    + "operations; 0 runs the plain stores only (default: ${DEFAULT-VALUE}).")
    private int lineageCheckpointOps;

    @Mixin
    private JsonLinesOutput output;

    @Option(names = "--chart", paramLabel = "FILE.png",
            description = "Also draw throughput against threads, one line per system, into this PNG file.")
    private Path chartFile;

    @Override
    public Integer call() throws IOException {
        KvBenchmark.Settings settings = settings();
        List<Integer> threadCounts = List.copyOf(new LinkedHashSet<>(threads));
        int maxThreads = threadCounts.stream().mapToInt(Integer::intValue).max().orElseThrow();
        long runPuts = settings.durationNanos() > 0 ? 0
                : (long) Math.ceil((ops + settings.warmupOps()) * workload.updateFraction()) * threadCounts.size();
        StoreDeployment.Plan plan = new StoreDeployment.Plan(fabric, replication, maxThreads, keys, KeySpace.KEY_BYTES, valueBytes,
                runPuts, PdpmCommand.class.getName());
        Map<String, Object> machine = MachineInfo.describe();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        KvBenchmark benchmark = new KvBenchmark(settings);
        List<KvBenchmark.Result> results = new ArrayList<>();
        for (SystemKind system : new LinkedHashSet<>(systems)) {
            LOG.info("starting {} for {} keys of {} bytes", system.label(), keys, valueBytes);
            try (StoreDeployment deployment = system.deploy(plan)) {
                measure(system.label(), deployment, benchmark, threadCounts, maxThreads, settings, machine, out, results);
            }
            if (lineageCheckpointOps > 0 && (system == SystemKind.DIRECT || system == SystemKind.CENTRAL)) {
                String label = system.label() + "+lineage";
                LOG.info("starting {}, a checkpoint every {} operations of a thread", label, lineageCheckpointOps);
                try (StoreDeployment deployment = LineageDeployment.start(system, plan, lineageCheckpointOps)) {
                    measure(label, deployment, benchmark, threadCounts, maxThreads, settings, machine, out, results);
                }
            }
        }
        err.print(KvResultTable.format(results));
        err.flush();
        if (chartFile != null) {
            ThroughputChart.write(chartFile, "workload " + workload.label() + " on " + fabric.label() + ", " + keys + " keys, "
                    + settings.chooser().distribution() + ", " + valueBytes + " B values", results);
        }
        return 0;
    }

    private void measure(String label, StoreDeployment deployment, KvBenchmark benchmark, List<Integer> threadCounts,
                         int maxThreads, KvBenchmark.Settings settings, Map<String, Object> machine, PrintWriter out,
                         List<KvBenchmark.Result> results) throws IOException {
        KvBenchmark.Preparation preparation = benchmark.prepare(deployment, maxThreads);
        LOG.info("{}: loaded in {} s, warmed up in {} s", label, preparation.loadSeconds(), preparation.warmupSeconds());
        for (int t : threadCounts) {
            KvBenchmark.Result result = benchmark.run(label, deployment, t, preparation);
            output.emit(out, Json.write(result.toJson(settings, machine)));
            results.add(result);
        }
    }

    private KvBenchmark.Settings settings() {
        require(fabric == FabricKind.LOCAL || fabric == FabricKind.TCP,
                "--fabric=" + fabric.label() + ": bench kv runs on local or tcp");
        require(keys >= 2, "--keys=" + keys + " must be at least 2");
        require(ops >= 1, "--ops=" + ops + " must be positive");
        require(warmupPercent >= 0 && warmupPercent <= 100, "--warmup=" + warmupPercent + " must be 0..100");
        require(durationMillis == null || durationMillis >= 1, "--duration-ms=" + durationMillis + " must be positive");
        require(valueBytes >= 1, "--value-size=" + valueBytes + " must be positive");
        require(threads.stream().allMatch(t -> t >= 1), "--threads=" + threads + " must all be positive");
        require(inFlight >= 1 && inFlight <= KvBenchmark.MAX_IN_FLIGHT,
                "--in-flight=" + inFlight + " must be 1.." + KvBenchmark.MAX_IN_FLIGHT);
        require(replication >= 1 && replication <= 3, "--replication=" + replication + " must be 1..3");
        require(lineageCheckpointOps >= 0, "--lineage=" + lineageCheckpointOps + " must not be negative");
        require(lineageCheckpointOps == 0 || systems.contains(SystemKind.DIRECT) || systems.contains(SystemKind.CENTRAL),
                "--lineage=" + lineageCheckpointOps + " needs --system direct or central");
        require(uniform || (theta > 0 && theta < 1), "--zipf=" + theta + " must be in (0, 1)");
        KeyChooser chooser;
        try {
            chooser = uniform ? KeyChooser.uniform(keys) : KeyChooser.scrambledZipfian(keys, theta);
            long durationNanos = durationMillis == null ? 0 : TimeUnit.MILLISECONDS.toNanos(durationMillis);
            return new KvBenchmark.Settings(workload, chooser, keys, valueBytes, ops, durationNanos, seed, inFlight,
                    warmupPercent);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private void require(boolean valid, String reason) {
        if (!valid) {
            throw new ParameterException(spec.commandLine(), reason);
        }
    }

    /** {@code a}, {@code b}, {@code c}, {@code write-only}; anything else is a usage error. */
    static final class WorkloadConverter implements ITypeConverter<Workload> {
        @Override
        public Workload convert(String value) {
            try {
                return Workload.of(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
