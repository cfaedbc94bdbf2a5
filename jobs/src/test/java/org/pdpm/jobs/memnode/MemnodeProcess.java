package org.pdpm.jobs.memnode;

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
import org.pdpm.jobs.cli.PdpmCommand;
import org.pdpm.rdma.api.NodeAddress;

/**
 * {@code pdpm memnode} as a real child process of the test JVM: same java, same class path. Its
 * stderr goes to a file beside the PM file so a failing test can show the node's log.
 */
final class MemnodeProcess implements AutoCloseable {

    private final Process process;
    private final Path log;
    private final NodeAddress address;

    private MemnodeProcess(Process process, Path log, NodeAddress address) {
        this.process = process;
        this.log = log;
        this.address = address;
    }

    /** Starts the node and waits for its {@code listening on} line. */
    static MemnodeProcess start(Path pm, String size, Path secretFile) throws IOException, InterruptedException {
        Process p = launch(pm, size, secretFile);
        Path log = pm.resolveSibling(pm.getFileName() + ".log");
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
            first = line.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("memnode did not report its address; log:\n" + Files.readString(log), e);
        }
        if (first == null || !first.startsWith("listening on ")) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException("memnode printed '" + first + "'; log:\n" + Files.readString(log));
        }
        return new MemnodeProcess(p, log, NodeAddress.parse(first.substring("listening on ".length())));
    }

    /** Runs a memnode that is expected to refuse to start; returns its exit code and stderr. */
    static Exit runToExit(Path pm, String size, Path secretFile) throws IOException, InterruptedException {
        Process p = launch(pm, size, secretFile);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException("memnode kept running although it should have refused to start");
        }
        Path log = pm.resolveSibling(pm.getFileName() + ".log");
        return new Exit(p.exitValue(), Files.readString(log));
    }

    record Exit(int code, String stderr) {}

    private static Process launch(Path pm, String size, Path secretFile) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(PdpmCommand.class.getName());
        cmd.add("memnode");
        cmd.add("--listen");
        cmd.add("127.0.0.1:0");
        cmd.add("--pm");
        cmd.add(pm.toString());
        cmd.add("--size");
        cmd.add(size);
        if (secretFile != null) {
            cmd.add("--secret-file");
            cmd.add(secretFile.toString());
        }
        Path log = pm.resolveSibling(pm.getFileName() + ".log");
        return new ProcessBuilder(cmd).redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    }

    NodeAddress address() {
        return address;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** {@code kill -9}: no shutdown hook, no flush. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM; returns the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("memnode ignored SIGTERM for 30 s");
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
