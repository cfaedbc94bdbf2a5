package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;

/**
 * The {@code pdpm} command line (DESIGN §5). Exit codes: 0 on success or a clean stop, 2 on bad
 * input (a usage error, a bad size or secret file, a PM file the memory node refuses), 1 on any
 * other failure. Every failure is reported as one line on stderr, {@code pdpm <command>: <reason>};
 * logs go to stderr too, so stdout carries only what scripts read ({@code listening on}, JSON).
 */
@Command(
        name = "pdpm",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = "Passive disaggregated persistent memory for Apache Flink: memory nodes, the Clover metadata server, the Central coordinator, an operator's key-value view, benchmarks, the demo and sample jobs.",
        subcommands = {DemoCommand.class, JobCommand.class, MemnodeCommand.class, MetaserverCommand.class,
            CoordinatorCommand.class, KvCommand.class, PinsCommand.class, BenchCommand.class})
public final class PdpmCommand {

    static {
        // Flink's test jars (on this class path for pdpm bench state) carry a log4j2-test.properties
        // that log4j would prefer to ours, and it silences every logger. Ours is named explicitly,
        // before the first logger exists, unless the user names another.
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "log4j2.properties");
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(PdpmCommand.class);

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** Runs {@code pdpm args} with the given streams and returns the exit code; for tests and embedding. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = newCommandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new PdpmCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(PdpmCommand::onBadInput);
        cl.setExecutionExceptionHandler((e, command, parsed) -> onFailure(e, command));
        return cl;
    }

    private static int onBadInput(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        // A usage error points at the help; a file the command refused has nothing to look up there.
        String hint = e instanceof BadInputException ? "" : " (see '" + name + " --help')";
        command.getErr().println(name + ": " + oneLine(e.getMessage()) + hint);
        command.getErr().flush();
        return ExitCode.USAGE;
    }

    private static int onFailure(Exception e, CommandLine command) {
        // The one-line reason is for the operator; the stack trace is for whoever debugs it.
        LOG.debug("{} failed", command.getCommandSpec().qualifiedName(), e);
        command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + reason(e));
        command.getErr().flush();
        return ExitCode.SOFTWARE;
    }

    /** The exception's message, or its type when it has none, on one line. */
    static String reason(Throwable e) {
        String message = e.getMessage();
        return oneLine(message == null || message.isBlank() ? e.getClass().getSimpleName() : message);
    }

    static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** Input the command line accepted but the command cannot use: a refused file, say. Exit code 2. */
    static final class BadInputException extends ParameterException {
        BadInputException(CommandLine commandLine, String message, Throwable cause) {
            super(commandLine, message, cause);
        }
    }

    /** The version the jar's manifest carries (the build writes it there). */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PdpmCommand.class.getPackage().getImplementationVersion();
            return new String[] {"pdpm " + (v == null ? "(version unknown: not run from the pdpm jar)" : v)};
        }
    }
}
