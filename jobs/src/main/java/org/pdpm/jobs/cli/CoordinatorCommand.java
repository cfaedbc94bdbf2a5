package org.pdpm.jobs.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pdpm coordinator}: pDPM-Central's coordinator as a process. It opens the pool on the memory
 * nodes (formatting them when all are blank), rebuilds its index from the slots and redo log there,
 * and serves Central clients over TCP; every request goes through it. It keeps nothing of its own:
 * a write is durable on the memory nodes before it is answered, so {@code kill -9} loses nothing
 * acknowledged and a restart on the same nodes resumes where the last one stopped.
 *
 * <p>SIGTERM and SIGINT close the coordinator and the process exits 0.
 */
@Command(
        name = "coordinator",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Serves pDPM-Central (index, locks, redo log; every request goes through it) for the pool on the"
                    + " given memory nodes.",
            "Prints one line 'listening on HOST:PORT' to stdout once it serves; logs go to stderr.",
            "Stops cleanly on SIGTERM or SIGINT and exits 0."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:clean stop (SIGTERM or SIGINT)",
            "1:runtime failure, e.g. a memory node is unreachable or the address is in use",
            "2:bad arguments, unreadable secret file, memory nodes that do not form the pool"
        })
final class CoordinatorCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
            converter = MemnodeCommand.ListenAddressConverter.class,
            description = "Address to listen on; port 0 picks a free port, which the 'listening on' line reports.")
    private InetSocketAddress listen;

    @Option(names = "--memnodes", required = true, split = ",", paramLabel = "HOST:PORT",
            converter = NodeAddressConverter.class,
            description = "The pool's memory nodes, comma-separated, always in the same order: blank nodes are "
                    + "formatted into a new pool, nodes of an existing pool must all be given.")
    private List<NodeAddress> memnodes;

    @Option(names = "--replication", paramLabel = "R",
            description = "Copies of every value, 1..3; the node count must be a multiple of it. An existing pool "
                    + "keeps the replication it was formatted with, and R must match it. Default: 2, or 1 with a "
                    + "single memory node.")
    private Integer replication;

    @Option(names = "--max-key-bytes", paramLabel = "BYTES", defaultValue = "512",
            description = "Largest key a new pool takes (default: ${DEFAULT-VALUE}); the Flink backend's 256-byte keys"
                    + " need 528. An existing pool keeps the sizes it was formatted with.")
    private int maxKeyBytes;

    @Option(names = "--max-value-bytes", paramLabel = "BYTES", defaultValue = "1504",
            description = "Largest value a new pool takes (default: ${DEFAULT-VALUE}); every slot holds a record"
                    + " header, the largest key and the largest value. The Flink backend's 4 KiB values need 4106.")
    private int maxValueBytes;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding one line, the shared secret: presented to the memory nodes and required "
                    + "of every client. Without it any client may connect.")
    private Path secretFile;

    @Override
    public Integer call() throws IOException, InterruptedException {
        int r = replication != null ? replication : memnodes.size() == 1 ? 1 : 2;
        if (r < 1 || r > 3) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), "--replication=" + r + " must be 1..3", null);
        }
        if (memnodes.size() % r != 0) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), memnodes.size() + " memory nodes are not a"
                    + " multiple of --replication=" + r, null);
        }
        String secret = null;
        if (secretFile != null) {
            try {
                secret = SecretFile.read(secretFile);
            } catch (IllegalArgumentException e) {
                throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
            }
        }
        TcpFabric fabric = new TcpFabric(secret);
        Coordinator coordinator;
        try {
            coordinator = Coordinator.open(fabric, memnodes,
                    Coordinator.Options.forLimits(r, new KvLimits(maxKeyBytes, maxValueBytes)));
        } catch (IllegalStateException | IllegalArgumentException e) {
            // Nodes given out of order, of another pool, with another replication, or sizes that do not fit.
            fabric.close();
            throw new PdpmCommand.BadInputException(spec.commandLine(), PdpmCommand.reason(e), e);
        } catch (RuntimeException e) {
            fabric.close();
            throw e;
        }
        CoordinatorRpcServer rpc;
        try {
            rpc = CoordinatorRpcServer.start(coordinator, CoordinatorRpcServer.Config.of(listen, secret));
        } catch (IOException | RuntimeException e) {
            coordinator.close();
            fabric.close();
            throw e;
        }

        DaemonLifecycle.serve("coordinator", rpc.boundAddress(), spec.commandLine().getOut(), () -> {
            rpc.close();
            coordinator.close();
            fabric.close();
        });
        return 0;
    }
}
