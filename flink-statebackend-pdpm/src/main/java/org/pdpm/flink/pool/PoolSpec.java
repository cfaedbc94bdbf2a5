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
 * @param memoryNodes    empty for the embedded local pool
 * @param metadataServer null for the embedded pool (its metadata server runs in this JVM)
 * @param secret         null for the embedded pool
 */
public record PoolSpec(StoreSystem system, FabricType fabric, List<NodeAddress> memoryNodes,
                       NodeAddress metadataServer, int replication, String secret, long localNodeBytes) {

    public PoolSpec {
        memoryNodes = List.copyOf(memoryNodes);
    }

    public boolean embedded() {
        return memoryNodes.isEmpty();
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
        FabricType fabric = config.getOptional(PdpmOptions.FABRIC)
                .orElse(nodes.isEmpty() ? FabricType.LOCAL : FabricType.TCP);
        if (fabric == FabricType.LOCAL && !nodes.isEmpty()) {
            throw new IllegalConfigurationException(PdpmOptions.FABRIC.key() + "=local runs an embedded pool, but "
                    + PdpmOptions.MEMORY_NODES.key() + " names " + nodes.size() + " memory nodes: use tcp or disni,"
                    + " or drop the memory nodes");
        }
        if (fabric != FabricType.LOCAL && nodes.isEmpty()) {
            throw new IllegalConfigurationException(PdpmOptions.FABRIC.key() + "=" + fabric.name().toLowerCase()
                    + " needs " + PdpmOptions.MEMORY_NODES.key() + " (host:port of each memory node)");
        }
        int replication = config.getOptional(PdpmOptions.REPLICATION).orElse(nodes.isEmpty() ? 1 : Math.min(2, nodes.size()));
        if (replication < 1 || replication > 3) {
            throw new IllegalConfigurationException(PdpmOptions.REPLICATION.key() + "=" + replication + " must be 1..3");
        }
        if (!nodes.isEmpty() && nodes.size() % replication != 0) {
            throw new IllegalConfigurationException(PdpmOptions.REPLICATION.key() + "=" + replication + " does not divide the "
                    + nodes.size() + " memory nodes of " + PdpmOptions.MEMORY_NODES.key() + " into replica groups");
        }
        if (system != StoreSystem.CLOVER) {
            throw new IllegalConfigurationException(PdpmOptions.SYSTEM.key() + "=" + system.name().toLowerCase()
                    + " is not available to the Flink backend yet: it needs epochs and lineages (for O(1) checkpoints"
                    + " and restores), which only clover has so far");
        }
        NodeAddress metadataServer = null;
        String secret = null;
        if (!nodes.isEmpty()) {
            String ms = config.getOptional(PdpmOptions.METADATA_SERVER).orElseThrow(() ->
                    new IllegalConfigurationException(PdpmOptions.METADATA_SERVER.key()
                            + " is required with memory nodes: host:port of the pdpm metaserver"));
            metadataServer = address(PdpmOptions.METADATA_SERVER.key(), ms.trim());
            String file = config.getOptional(PdpmOptions.SECRET_FILE).orElseThrow(() ->
                    new IllegalConfigurationException(PdpmOptions.SECRET_FILE.key()
                            + " is required with memory nodes: a file holding their shared secret"));
            secret = readSecret(file);
        }
        long localBytes = config.get(PdpmOptions.LOCAL_SIZE).getBytes();
        if (localBytes < (16 << 20)) {
            throw new IllegalConfigurationException(PdpmOptions.LOCAL_SIZE.key() + "=" + config.get(PdpmOptions.LOCAL_SIZE)
                    + " is too small: the embedded pool needs at least 16mb per memory node");
        }
        return new PoolSpec(system, fabric, nodes, metadataServer, replication, secret, localBytes);
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
        return embedded()
                ? "embedded local pool (" + replication + " x " + (localNodeBytes >> 20) + " MiB)"
                : system.name().toLowerCase() + " on " + fabric.name().toLowerCase() + " " + memoryNodes
                        + ", metadata server " + metadataServer + ", R=" + replication;
    }
}
