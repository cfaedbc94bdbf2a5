package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.pdpm.jobs.demo.Demo;
import org.pdpm.jobs.sample.FailureMode;
import org.pdpm.jobs.sample.LocalFlinkCluster;
import org.pdpm.jobs.sample.PurchasesJob;
import org.pdpm.jobs.sample.RunReport;
import org.pdpm.jobs.sample.SampleJobRunner;
import org.pdpm.jobs.sample.SampleJobSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code pdpm job NAME --backend B}: one run of a sample job, with its result check and figures. */
@Command(
        name = "job",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Runs one sample job once on one state backend and prints its result check and figures.",
            "",
            "The job runs in this JVM on a Flink MiniCluster of two TaskManagers. Jobs: " + PurchasesJob.NAME + ".",
            "Exit code 0 when the results are correct, 1 otherwise."
        })
final class JobCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The sample job: " + PurchasesJob.NAME + ".")
    private String name;

    @Option(names = "--backend", paramLabel = "B", required = true,
            description = "State backend: pdpm, rocksdb, hashmap or a factory class name.")
    private String backend;

    @Mixin
    private SampleJobOptions job;

    @Option(names = "--failure", paramLabel = "F", defaultValue = "none", converter = FailureConverter.class,
            description = "Failure to inject midway: none, exception (the job throws once) or kill-tm (a TaskManager is killed and replaced) (default: ${DEFAULT-VALUE}).")
    private FailureMode failure;

    @Override
    public Integer call() throws Exception {
        if (!PurchasesJob.NAME.equals(name)) {
            throw new ParameterException(spec.commandLine(), "unknown job '" + name + "' (known: " + PurchasesJob.NAME + ")");
        }
        SampleJobSettings settings = job.settings(spec);
        if (failure == FailureMode.KILL_TASK_MANAGER && settings.parallelism() < Demo.TASK_MANAGERS) {
            throw new ParameterException(spec.commandLine(), "--failure kill-tm needs --parallelism of at least "
                    + Demo.TASK_MANAGERS + ", so that both TaskManagers run tasks");
        }
        job.applyFlinkLogLevel(spec);
        PrintWriter out = spec.commandLine().getOut();
        SampleJobRunner.Options options = SampleJobRunner.Options.of(backend, settings, failure)
                .withCheckpointInterval(Duration.ofMillis(job.checkpointIntervalMillis()))
                .withExtraConfiguration(job.flinkConfiguration());
        int slotsPerTaskManager = (settings.parallelism() + Demo.TASK_MANAGERS - 1) / Demo.TASK_MANAGERS;
        RunReport report;
        try (LocalFlinkCluster cluster = LocalFlinkCluster.start(Demo.TASK_MANAGERS, slotsPerTaskManager)) {
            report = SampleJobRunner.run(cluster, options, line -> {
                out.println("[" + backend + "] " + line);
                out.flush();
            });
        }
        out.print(report.describe());
        out.flush();
        if (!report.ok()) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%s on %s not correct: %s", name, backend,
                    String.join("; ", report.problems())));
        }
        return 0;
    }

    /** none | exception | kill-tm. */
    static final class FailureConverter implements ITypeConverter<FailureMode> {
        @Override
        public FailureMode convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "none" -> FailureMode.NONE;
                case "exception" -> FailureMode.EXCEPTION;
                case "kill-tm" -> FailureMode.KILL_TASK_MANAGER;
                default -> throw new TypeConversionException("'" + value + "' is not one of none, exception, kill-tm");
            };
        }
    }
}
