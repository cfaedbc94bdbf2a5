package org.pdpm.jobs.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.pdpm.rdma.api.NodeAddress;

/**
 * A {@code pdpm} daemon, or a test's own client program, as a real child process of the test JVM:
 * same java, same class path, its stderr in a log file so a failing test can show it. {@code kill9}
 * is SIGKILL, {@code terminate} SIGTERM.
 */
public final class ChildProcess implements AutoCloseable {

    private static final long START_TIMEOUT_SECONDS = 60;
    private static final long STOP_TIMEOUT_SECONDS = 30;
    private static final String LISTENING = "listening on ";

    private final String name;
    private final Process process;
    private final Path log;
    private final BufferedReader stdout;
    private final NodeAddress address;
    private final long startMillis;

    private ChildProcess(String name, Process process, Path log, BufferedReader stdout, NodeAddress address,
                         long startMillis) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.stdout = stdout;
        this.address = address;
        this.startMillis = startMillis;
    }

    /** Starts {@code mainClass args} and waits for its {@code listening on} line. */
    public static ChildProcess start(String name, Path log, Class<?> mainClass, List<String> args)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = launch(log, mainClass, args);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String first;
        try {
            first = line.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException(name + " did not report its address; log:\n" + Files.readString(log), e);
        }
        if (first == null || !first.startsWith(LISTENING)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException(name + " printed '" + first + "'; log:\n" + Files.readString(log));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        return new ChildProcess(name, p, log, out, NodeAddress.parse(first.substring(LISTENING.length())), millis);
    }

    /** Starts {@code mainClass args}, a program that listens nowhere: the caller reads its {@link #stdout}. */
    public static ChildProcess startClient(String name, Path log, Class<?> mainClass, List<String> args)
            throws IOException {
        Process p = launch(log, mainClass, args);
        return new ChildProcess(name, p, log,
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)), null, 0);
    }

    /** Runs {@code mainClass args}, expected to exit by itself; returns its exit code and stderr. */
    public static Exit runToExit(Path log, Class<?> mainClass, List<String> args) throws IOException, InterruptedException {
        Process p = launch(log, mainClass, args);
        if (!p.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException(mainClass.getSimpleName() + " " + args + " kept running; log:\n"
                    + Files.readString(log));
        }
        return new Exit(p.exitValue(), Files.readString(log));
    }

    public record Exit(int code, String stderr) {}

    private static Process launch(Path log, Class<?> mainClass, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    }

    /** The address a daemon reported; null for a process started by {@link #startClient}. */
    public NodeAddress address() {
        return address;
    }

    /** What the process prints to stdout after its {@code listening on} line, if any. */
    public BufferedReader stdout() {
        return stdout;
    }

    /** From launching the JVM to its {@code listening on} line. */
    public long startMillis() {
        return startMillis;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    /** {@code kill -9}: no shutdown hook, nothing flushed. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived SIGKILL for " + STOP_TIMEOUT_SECONDS + " s");
        }
    }

    /** SIGTERM; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException(name + " ignored SIGTERM for " + STOP_TIMEOUT_SECONDS + " s");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill9();
        }
    }
}
