package org.pdpm.flink.pool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.ReadableConfig;
import org.pdpm.flink.PdpmOptions;
import org.pdpm.flink.PdpmOptions.FabricType;
import org.pdpm.flink.PdpmOptions.StoreSystem;
import org.pdpm.rdma.api.NodeAddress;

/**
 * Which pool the {@code state.backend.pdpm.*} options name, checked: every invalid value fails here,
 * at start-up, naming its key.
 *
 * @param memoryNodes    empty for the embedded local pool, and for central (its coordinator has them)
 * @param metadataServer clover's; null for the embedded pool (its metadata server runs in this JVM)
 * @param coordinator    central's; null for the embedded pool (its coordinator runs in this JVM)
 * @param secret         null for the embedded pool
 */
public record PoolSpec(StoreSystem system, FabricType fabric, List<NodeAddress> memoryNodes,
                       NodeAddress metadataServer, NodeAddress coordinator, int replication, String secret,
                       long localNodeBytes) {

    public PoolSpec {
        memoryNodes = List.copyOf(memoryNodes);
    }

    /** An embedded pool: nothing configured to reach, so everything runs inside this JVM. */
    public boolean embedded() {
        return memoryNodes.isEmpty() && coordinator == null;
    }

    /**
     * What {@code pdpm://} paths name a remote pool by: the address of its metadata server (clover),
     * of its coordinator (central), or of its first memory node (direct, which has no server).
     */
    public String remoteId() {
        return switch (system) {
            case CLOVER -> metadataServer.toString();
            case CENTRAL -> coordinator.toString();
            case DIRECT -> memoryNodes.get(0).toString();
        };
    }

    /** The pool the configuration names; an {@link IllegalConfigurationException} naming the key when it is wrong. */
    public static PoolSpec from(ReadableConfig config) {
        StoreSystem system = config.get(PdpmOptions.SYSTEM);
        List<NodeAddress> nodes = new ArrayList<>();
        for (String n : config.getOptional(PdpmOptions.MEMORY_NODES).orElse(List.of())) {
            if (!n.isBlank()) {
                nodes.add(address(PdpmOptions.MEMORY_NODES.key(), n.trim()));
            }
        }
        NodeAddress coordinator = config.getOptional(PdpmOptions.COORDINATOR)
                .map(c -> address(PdpmOptions.COORDINATOR.key(), c.trim())).orElse(null);
        if (system == StoreSystem.CENTRAL && !nodes.isEmpty()) {
            throw new IllegalConfigurationException(PdpmOptions.MEMORY_NODES.key() + " names memory nodes, but with "
                    + PdpmOptions.SYSTEM.key() + "=central only the coordinator reaches them: give "
                    + PdpmOptions.COORDINATOR.key() + " (pdpm coordinator's host:port) instead");
        }
        if (system != StoreSystem.CENTRAL) {
            coordinator = null;   // central's alone; a shared config file may carry it for other jobs
        }
        boolean embedded = nodes.isEmpty() && coordinator == null;
        FabricType fabric = config.getOptional(PdpmOptions.FABRIC).orElse(embedded ? FabricType.LOCAL : FabricType.TCP);
        if (fabric == FabricType.LOCAL && !embedded) {
            throw new IllegalConfigurationException(PdpmOptions.FABRIC.key() + "=local runs an embedded pool, but "
                    + (nodes.isEmpty() ? PdpmOptions.COORDINATOR.key() + " names a coordinator"
                            : PdpmOptions.MEMORY_NODES.key() + " names " + nodes.size() + " memory nodes")
                    + ": use tcp or disni, or drop them");
        }
        if (fabric != FabricType.LOCAL && embedded) {
            throw new IllegalConfigurationException(PdpmOptions.FABRIC.key() + "=" + fabric.name().toLowerCase()
                    + " needs " + (system == StoreSystem.CENTRAL ? PdpmOptions.COORDINATOR.key()
                            + " (host:port of pdpm coordinator)" : PdpmOptions.MEMORY_NODES.key()
                            + " (host:port of each memory node)"));
        }
        int replication = config.getOptional(PdpmOptions.REPLICATION).orElse(nodes.isEmpty() ? 1 : Math.min(2, nodes.size()));
        if (replication < 1 || replication > 3) {
            throw new IllegalConfigurationException(PdpmOptions.REPLICATION.key() + "=" + replication + " must be 1..3");
        }
        if (!nodes.isEmpty() && nodes.size() % replication != 0) {
            throw new IllegalConfigurationException(PdpmOptions.REPLICATION.key() + "=" + replication + " does not divide the "
                    + nodes.size() + " memory nodes of " + PdpmOptions.MEMORY_NODES.key() + " into replica groups");
        }
        NodeAddress metadataServer = null;
        String secret = null;
        if (!embedded) {
            if (system == StoreSystem.CLOVER) {
                String ms = config.getOptional(PdpmOptions.METADATA_SERVER).orElseThrow(() ->
                        new IllegalConfigurationException(PdpmOptions.METADATA_SERVER.key()
                                + " is required with memory nodes: host:port of the pdpm metaserver"));
                metadataServer = address(PdpmOptions.METADATA_SERVER.key(), ms.trim());
            }
            String file = config.getOptional(PdpmOptions.SECRET_FILE).orElseThrow(() ->
                    new IllegalConfigurationException(PdpmOptions.SECRET_FILE.key() + " is required with "
                            + (nodes.isEmpty() ? "a coordinator" : "memory nodes") + ": a file holding the pool's shared secret"));
            secret = readSecret(file);
        }
        long localBytes = config.get(PdpmOptions.LOCAL_SIZE).getBytes();
        if (localBytes < (16 << 20)) {
            throw new IllegalConfigurationException(PdpmOptions.LOCAL_SIZE.key() + "=" + config.get(PdpmOptions.LOCAL_SIZE)
                    + " is too small: the embedded pool needs at least 16mb per memory node");
        }
        return new PoolSpec(system, fabric, nodes, metadataServer, coordinator, replication, secret, localBytes);
    }

    private static NodeAddress address(String key, String text) {
        try {
            return NodeAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalConfigurationException(key + ": '" + text + "' is not host:port (" + e.getMessage() + ")");
        }
    }

    private static String readSecret(String file) {
        try {
            String secret = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
            if (secret.isEmpty()) {
                throw new IllegalConfigurationException(PdpmOptions.SECRET_FILE.key() + "=" + file + " is empty");
            }
            return secret;
        } catch (IOException e) {
            throw new IllegalConfigurationException(PdpmOptions.SECRET_FILE.key() + "=" + file + " cannot be read: " + e);
        }
    }

    @Override
    public String toString() {
        String name = system.name().toLowerCase();
        if (embedded()) {
            return "embedded local " + name + " pool (" + replication + " x " + (localNodeBytes >> 20) + " MiB)";
        }
        return switch (system) {
            case CLOVER -> name + " on " + fabric.name().toLowerCase() + " " + memoryNodes + ", metadata server "
                    + metadataServer + ", R=" + replication;
            case DIRECT -> name + " on " + fabric.name().toLowerCase() + " " + memoryNodes + ", R=" + replication;
            case CENTRAL -> name + " through coordinator " + coordinator;
        };
    }
}
