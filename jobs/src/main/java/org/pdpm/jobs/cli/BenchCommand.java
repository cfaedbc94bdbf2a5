package org.pdpm.jobs.cli;

import picocli.CommandLine.Command;

/** Groups the benchmarks; each compares implementations side by side in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = "Benchmarks that compare implementations side by side in one run.",
        subcommands = {BenchFabricCommand.class, BenchRecoveryCommand.class, BenchKvCommand.class,
            BenchStateCommand.class})
final class BenchCommand {
}
