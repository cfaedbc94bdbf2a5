package org.pdpm.jobs.cli;

import org.pdpm.core.api.Lineages;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.rdma.api.NodeAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pdpm pins}: an operator's view of a Clover pool's pinned epochs — what checkpoints and
 * savepoints hold alive — to find and release the pins whose owner vanished (a cancelled job, a
 * JobManager that died before discarding its checkpoints). Flink's pins are owned by
 * {@code flink-job-JOBID-chk-N-...}; releasing a pin a retained checkpoint still needs makes that
 * checkpoint unrestorable, so release only what no job will restore.
 */
@Command(
        name = "pins",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Lists a Clover pool's pins (LINEAGE EPOCH OWNER, one per line), or releases those whose owner",
            "starts with --release-owner-prefix (printing each one released)."
        },
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:done", "1:the metadata server failed or is unreachable", "2:bad arguments"})
final class PinsCommand implements Callable<Integer> {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Spec
    private CommandSpec spec;

    @Option(names = "--metaserver", required = true, paramLabel = "HOST:PORT", converter = NodeAddressConverter.class,
            description = "The metadata server ('pdpm metaserver').")
    private NodeAddress metaserver;

    @Option(names = "--secret-file", required = true, paramLabel = "FILE",
            description = "File holding one line, the pool's shared secret.")
    private Path secretFile;

    @Option(names = "--release-owner-prefix", paramLabel = "PREFIX",
            description = "Release every pin whose owner starts with PREFIX (e.g. flink-job-<JOBID>).")
    private String releasePrefix;

    @Override
    public Integer call() {
        if (releasePrefix != null && releasePrefix.isBlank()) {
            throw new ParameterException(spec.commandLine(), "--release-owner-prefix must not be blank: it would"
                    + " release every pin of the pool");
        }
        String secret;
        try {
            secret = SecretFile.read(secretFile);
        } catch (IllegalArgumentException e) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (RemoteMetadataService metadata = new RemoteMetadataService(metaserver,
                new RemoteMetadataService.Options(secret, TIMEOUT, TIMEOUT, 1))) {
            List<Lineages.Pin> pins = metadata.pins();
            for (Lineages.Pin p : pins) {
                if (releasePrefix == null) {
                    out.println(p.lineage() + " " + p.epoch() + " " + p.owner());
                } else if (p.owner().startsWith(releasePrefix)) {
                    metadata.unpin(p.lineage(), p.epoch(), p.owner());
                    out.println("released " + p.lineage() + " " + p.epoch() + " " + p.owner());
                }
            }
        }
        out.flush();
        return 0;
    }
}
