package org.pdpm.jobs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.pdpm.rdma.api.NodeAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code pdpm memnode} started as a child process of this JVM — same java binary, same class
 * path — on a temporary PM file with a fresh secret, listening on a free loopback port. Closing it
 * stops the child (SIGTERM, then SIGKILL if it lingers) and deletes its files; a shutdown hook does
 * the same if this JVM is stopped first, so no child outlives the benchmark.
 */
final class ChildMemoryNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChildMemoryNode.class);
    private static final String LISTENING = "listening on ";
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Path directory;
    private final Process process;
    private final Thread cleanupHook;
    private final String secret;
    private NodeAddress address;

    private ChildMemoryNode(Path directory, Process process, String secret) {
        this.directory = directory;
        this.process = process;
        this.secret = secret;
        this.cleanupHook = new Thread(this::stopAndDelete, "pdpm-bench-memnode-cleanup");
    }

    /**
     * Starts {@code mainClass memnode …} and waits until it reports its address.
     *
     * @param mainClass the {@code pdpm} command's main class (the caller knows it; this package does not)
     */
    static ChildMemoryNode start(String mainClass, long sizeBytes, Duration startTimeout) throws IOException {
        return start(mainClass, sizeBytes, newSecret(), startTimeout);
    }

    /** As {@link #start(String, long, Duration)}, with a given secret: nodes one fabric reaches must share it. */
    static ChildMemoryNode start(String mainClass, long sizeBytes, String secret, Duration startTimeout)
            throws IOException {
        Path directory = Files.createTempDirectory("pdpm-bench-memnode-");
        ChildMemoryNode child;
        try {
            Path secretFile = writeSecret(directory, secret);
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            // The child gets this JVM's --add-opens so it runs exactly as the launcher would run it.
            for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (arg.startsWith("--add-opens")) {
                    command.add(arg);
                }
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass,
                    "memnode", "--listen", "127.0.0.1:0", "--pm", directory.resolve("node.pm").toString(),
                    "--size", Long.toString(sizeBytes), "--secret-file", secretFile.toString()));
            Process process = new ProcessBuilder(command)
                    .redirectError(directory.resolve("memnode.log").toFile())
                    .start();
            child = new ChildMemoryNode(directory, process, secret);
        } catch (IOException | RuntimeException e) {
            deleteTree(directory);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(child.cleanupHook);
        try {
            child.address = child.awaitAddress(startTimeout);
        } catch (IOException | RuntimeException e) {
            child.close();
            throw e;
        }
        LOG.info("child memory node {} listening on {}", child.process.pid(), child.address);
        return child;
    }

    NodeAddress address() {
        return address;
    }

    String secret() {
        return secret;
    }

    /** A fresh random secret for child memory nodes. */
    static String newSecret() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static Path writeSecret(Path directory, String secret) throws IOException {
        Path file = directory.resolve("secret");
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
        return file;
    }

    private NodeAddress awaitAddress(Duration timeout) throws IOException {
        CompletableFuture<String> firstLine = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                firstLine.complete(r.readLine());
            } catch (IOException e) {
                firstLine.completeExceptionally(e);
            }
        }, "pdpm-bench-memnode-stdout");
        reader.setDaemon(true);
        reader.start();
        String line;
        try {
            line = firstLine.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IOException("child memory node did not report 'listening on' within " + timeout.toSeconds()
                    + " s" + lastLogLine());
        } catch (ExecutionException e) {
            throw new IOException("cannot read the child memory node's output: " + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the child memory node", e);
        }
        if (line == null || !line.startsWith(LISTENING)) {
            String exit = process.isAlive() ? "" : " (exit code " + waitForExit() + ")";
            throw new IOException("child memory node did not start" + exit + lastLogLine());
        }
        return NodeAddress.parse(line.substring(LISTENING.length()));
    }

    private int waitForExit() {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The child's own one-line reason, which it logs last. */
    private String lastLogLine() {
        try (Stream<String> lines = Files.lines(directory.resolve("memnode.log"), StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.isBlank()).reduce((a, b) -> b).map(l -> ": " + l.strip()).orElse("");
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        stopAndDelete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook runs anyway, and stopping twice is harmless.
            LOG.debug("shutdown in progress; cleanup hook left in place", e);
        }
    }

    private synchronized void stopAndDelete() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("child memory node {} ignored SIGTERM for {} s; killing it", process.pid(),
                            STOP_TIMEOUT.toSeconds());
                    process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        deleteTree(directory);
    }

    /** Deletes {@code root} and everything under it; what cannot be deleted is logged, not thrown. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", root, e.toString());
        }
    }
}
