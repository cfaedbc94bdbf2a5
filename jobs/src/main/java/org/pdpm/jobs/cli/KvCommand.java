package org.pdpm.jobs.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.pdpm.core.api.KvStore;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.central.CoordinatorService;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.direct.DirectStore;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.jobs.bench.SystemKind;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pdpm kv get|put|delete KEY [VALUE]}: an operator's view of a running store. It joins the
 * store as a client of its own for one operation — for Clover, through the metadata server
 * process and the memory nodes over tcp; for Central, through the coordinator process alone — and
 * leaves. Keys and values are UTF-8 text.
 */
@Command(
        name = "kv",
        mixinStandardHelpOptions = true,
        versionProvider = PdpmCommand.Version.class,
        description = {
            "Reads, writes or deletes one key of a running store; keys and values are UTF-8 text.",
            "get prints the value and exits 0, or prints nothing and exits 1 when the key is absent."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done (get: the key has a value, printed)",
            "1:get: the key is absent; or a runtime failure, e.g. a server is unreachable",
            "2:bad arguments or unreadable secret file"
        })
final class KvCommand implements Callable<Integer> {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A grant of space may wait out the server's grace period for reclaimed blocks. */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    enum Action { GET, PUT, DELETE }

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "get|put|delete",
            description = "What to do with the key.")
    private Action action;

    @Parameters(index = "1", paramLabel = "KEY", description = "The key, as UTF-8 text.")
    private String key;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE",
            description = "The value to put, as UTF-8 text; only with put.")
    private String value;

    @Option(names = "--system", required = true, paramLabel = "SYSTEM",
            description = "The store to reach: clover, direct or central.")
    private SystemKind system;

    @Option(names = "--memnodes", required = true, split = ",", paramLabel = "HOST:PORT",
            converter = NodeAddressConverter.class,
            description = "The pool's memory nodes, comma-separated, in the order the metadata server was given them.")
    private List<NodeAddress> memnodes;

    @Option(names = "--metaserver", paramLabel = "HOST:PORT", converter = NodeAddressConverter.class,
            description = "The metadata server ('pdpm metaserver'); required for clover, unused by direct.")
    private NodeAddress metaserver;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT", converter = NodeAddressConverter.class,
            description = "The coordinator ('pdpm coordinator'); required for central.")
    private NodeAddress coordinator;

    @Option(names = "--replication", paramLabel = "R",
            description = "The pool's replication, 1..3, checked against what the pool was formatted with; "
                    + "by default whatever the pool has.")
    private Integer replication;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding one line, the shared secret of the memory nodes and the metadata server or"
                    + " coordinator.")
    private Path secretFile;

    @Override
    public Integer call() {
        checkArguments();
        String secret = secret();
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        if (system == SystemKind.CENTRAL) {
            try (RemoteCoordinator remote = new RemoteCoordinator(coordinator,
                    new RemoteCoordinator.Options(secret, CONNECT_TIMEOUT, CALL_TIMEOUT, 1));
                 KvStore store = openCentral(remote)) {
                return apply(store, k);
            }
        }
        if (system == SystemKind.DIRECT) {
            try (TcpFabric fabric = new TcpFabric(secret); KvStore store = openDirect(fabric)) {
                return apply(store, k);
            }
        }
        try (TcpFabric fabric = new TcpFabric(secret);
             RemoteMetadataService metadata = new RemoteMetadataService(metaserver, withSecret(secret));
             KvStore store = openClover(fabric, metadata)) {
            return apply(store, k);
        }
    }

    private int apply(KvStore store, byte[] k) {
        PrintWriter out = spec.commandLine().getOut();
        switch (action) {
            case GET -> {
                byte[] v = store.get(k);
                if (v == null) {
                    return 1;
                }
                out.println(new String(v, StandardCharsets.UTF_8));
                out.flush();
            }
            case PUT -> store.put(k, value.getBytes(StandardCharsets.UTF_8));
            case DELETE -> store.delete(k);
        }
        return 0;
    }

    /** The coordinator alone touches the memory nodes; the ones given are checked against its pool. */
    private KvStore openCentral(RemoteCoordinator remote) {
        CoordinatorService.Info info = remote.info();
        if (replication != null && replication != info.replication()) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), "--replication=" + replication
                    + " but the pool at " + coordinator + " was formatted with replication " + info.replication(), null);
        }
        if (memnodes.size() != info.nodeCount()) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), memnodes.size() + " memory nodes given but the"
                    + " pool of the coordinator at " + coordinator + " has " + info.nodeCount(), null);
        }
        return CentralStore.builder().coordinator(remote).open();
    }

    /** pDPM-Direct has no server: the client reaches the memory nodes alone (and formats blank ones). */
    private KvStore openDirect(TcpFabric fabric) {
        DirectStore.Builder builder = DirectStore.builder().fabric(fabric).memoryNodes(memnodes);
        if (replication != null) {
            builder.replication(replication);
        }
        try {
            return builder.open();
        } catch (IllegalArgumentException e) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private KvStore openClover(TcpFabric fabric, RemoteMetadataService metadata) {
        int poolReplication = metadata.pool().replication();
        if (replication != null && replication != poolReplication) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), "--replication=" + replication
                    + " but the pool at " + metaserver + " was formatted with replication " + poolReplication, null);
        }
        return CloverStore.builder().fabric(fabric).memoryNodes(memnodes).metadata(metadata).open();
    }

    private void checkArguments() {
        if (system == SystemKind.ROCKSDB) {
            throw new ParameterException(spec.commandLine(), "--system=" + system.label()
                    + ": kv reaches a running clover, direct or central deployment; rocksdb is an embedded baseline with none"
                    + " to reach");
        }
        if (system == SystemKind.CLOVER && metaserver == null) {
            throw new ParameterException(spec.commandLine(), "--metaserver is required for --system=clover");
        }
        if (system == SystemKind.CENTRAL && coordinator == null) {
            throw new ParameterException(spec.commandLine(), "--coordinator is required for --system=central");
        }
        if (action == Action.PUT && value == null) {
            throw new ParameterException(spec.commandLine(), "put needs a VALUE");
        }
        if (action != Action.PUT && value != null) {
            throw new ParameterException(spec.commandLine(), action.name().toLowerCase(Locale.ROOT)
                    + " takes no VALUE, but '" + value + "' was given");
        }
        if (replication != null && (replication < 1 || replication > 3)) {
            throw new ParameterException(spec.commandLine(), "--replication=" + replication + " must be 1..3");
        }
    }

    /** One operation makes one call at a time: a single connection is all it needs. */
    private static RemoteMetadataService.Options withSecret(String secret) {
        return new RemoteMetadataService.Options(secret, CONNECT_TIMEOUT, CALL_TIMEOUT, 1);
    }

    private String secret() {
        if (secretFile == null) {
            return null;
        }
        try {
            return SecretFile.read(secretFile);
        } catch (IllegalArgumentException e) {
            throw new PdpmCommand.BadInputException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
