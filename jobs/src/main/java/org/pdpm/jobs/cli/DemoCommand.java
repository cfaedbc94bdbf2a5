package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.pdpm.jobs.demo.Demo;
import org.pdpm.jobs.sample.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pdpm demo}: the main job, embedded, on each backend, with a TaskManager failure. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Runs the sample job on each backend with a TaskManager failure, checks it and compares.",
            "",
            "The sample keyed job (value, map and event-time window state with timers) runs in this JVM on a",
            "Flink MiniCluster of two TaskManagers, once per backend: a TaskManager is killed midway and a new",
            "one started, the results are checked exactly-once against the seed, then the backends are printed",
            "side by side (throughput, checkpoint durations, recovery time, results correct).",
            "Exit code 0 when every backend's results are correct, 1 otherwise."
        })
final class DemoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--backends", paramLabel = "B[,B...]", split = ",", defaultValue = "pdpm,rocksdb",
            description = "State backends to run, in order: pdpm, rocksdb, hashmap or a factory class name (default: ${DEFAULT-VALUE}).")
    private List<String> backends;

    @Mixin
    private SampleJobOptions job;

    @Option(names = "--no-failure", description = "Run without killing a TaskManager.")
    private boolean noFailure;

    @Override
    public Integer call() throws Exception {
        job.applyFlinkLogLevel(spec);
        PrintWriter out = spec.commandLine().getOut();
        List<RunReport> reports = Demo.run(
                new Demo.Settings(backends, job.settings(spec), !noFailure, Duration.ofMillis(job.checkpointIntervalMillis()),
                        job.flinkConfiguration()),
                out);
        List<String> failed = reports.stream().filter(r -> !r.ok()).map(RunReport::backend).collect(Collectors.toList());
        if (!failed.isEmpty()) {
            throw new IllegalStateException("not correct on " + String.join(", ", failed) + " (see above)");
        }
        return 0;
    }
}
