package org.pdpm.jobs.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.PmFileException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code pdpm memnode}: a passive memory node serving one PM region over the tcp fabric.
 *
 * <p>SIGTERM and SIGINT are handled, not left to the JVM's default (which would exit with
 * 128 + signal): the node closes — flushing and unmapping its region, closing its sockets — and
 * the process exits 0, so supervisors and scripts see a clean stop as a success. Any other way the
 * JVM shuts down (SIGHUP, for one) still closes the node through a shutdown hook, with the JVM's
 * own exit code. {@code kill -9} flushes nothing: what survives is what the PM file held.
 */
@Command(
        name = "memnode",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Serves one persistent-memory region to tcp fabric clients: a passive memory node.",
            "Prints one line 'listening on HOST:PORT' to stdout once it serves; logs go to stderr.",
            "Stops cleanly on SIGTERM or SIGINT (flushes and unmaps the region) and exits 0."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:clean stop (SIGTERM or SIGINT)",
            "1:runtime failure, e.g. the address is in use",
            "2:bad arguments, unreadable secret file, PM file refused"
        })
final class MemnodeCommand implements Callable<Integer> {


    @Spec
    private CommandSpec spec;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", converter = ListenAddressConverter.class,
            description = "Address to listen on; port 0 picks a free port, which the 'listening on' line reports.")
    private InetSocketAddress listen;

    @Option(names = "--pm", required = true, paramLabel = "PATH",
            description = "PM file holding the region: created when missing; an existing one is served only if "
                    + "a memory node made it with the same size.")
    private Path pmFile;

    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = ByteSize.Converter.class,
            description = "Region size: bytes, or a whole number with a unit b, k, m, g, t (kb/kib, mb/mib, ... "
                    + "are the same powers of 1024; case-insensitive), e.g. 64m or 1g.")
    private long sizeBytes;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding one line, the shared secret every client must present; without it any "
                    + "client may connect.")
    private Path secretFile;

    @Option(names = "--write-through",
            description = "Make every write durable before it completes, as if each were followed by a flush.")
    private boolean writeThrough;

    @Override
    public Integer call() throws IOException, InterruptedException {
        String secret = null;
        if (secretFile != null) {
            try {
                secret = SecretFile.read(secretFile);
            } catch (IllegalArgumentException e) {
                throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
            }
        }
        MemoryNodeDaemon daemon;
        try {
            daemon = MemoryNodeDaemon.start(
                    new MemoryNodeDaemon.Config(listen, pmFile, sizeBytes, secret, writeThrough));
        } catch (PmFileException | IllegalArgumentException e) {
            // The operator named a file or size this node cannot serve: bad input, not a crash.
            throw new PdpmCommand.BadInputException(spec.commandLine(), PdpmCommand.reason(e), e);
        }
        DaemonLifecycle.serve("memory node", daemon.boundAddress(), spec.commandLine().getOut(), daemon::close);
        return 0;
    }

    /** {@code HOST:PORT} to a resolved socket address, so an unknown host is a usage error. */
    static final class ListenAddressConverter implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            NodeAddress address;
            try {
                address = NodeAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
            InetSocketAddress resolved = new InetSocketAddress(address.host(), address.port());
            if (resolved.isUnresolved()) {
                throw new TypeConversionException("host '" + address.host() + "' cannot be resolved");
            }
            return resolved;
        }
    }
}
