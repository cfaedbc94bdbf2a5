package org.pdpm.jobs.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.jobs.cli.PdpmCommand;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * Real {@code pdpm memnode} and {@code pdpm metaserver} processes sharing one secret, logging into
 * one directory, and the Clover clients a test opens against them; closes all of it, newest first.
 */
public final class ProcessCluster implements AutoCloseable {

    private final Path dir;
    private final String secret;
    private final String nodeSize;
    private final List<AutoCloseable> resources = new ArrayList<>();

    public ProcessCluster(Path dir, String secret, String nodeSize) {
        this.dir = dir;
        this.secret = secret;
        this.nodeSize = nodeSize;
    }

    public Path dir() {
        return dir;
    }

    /** Closes {@code resource} with the cluster. */
    public <T extends AutoCloseable> T add(T resource) {
        resources.add(resource);
        return resource;
    }

    public Path secretFile() throws Exception {
        Path f = dir.resolve("secret");
        if (!Files.exists(f)) {
            Files.writeString(f, secret + "\n");
        }
        return f;
    }

    /** Memory node {@code i} on {@code listen}, its PM file {@code node<i>.pm}, its log tagged by {@code tag}. */
    public ChildProcess memnode(int i, String listen, String tag) throws Exception {
        return add(ChildProcess.start("memnode " + i + tag, dir.resolve("node" + i + tag + ".log"), PdpmCommand.class,
                List.of("memnode", "--listen", listen, "--pm", dir.resolve("node" + i + ".pm").toString(), "--size",
                        nodeSize, "--secret-file", secretFile().toString())));
    }

    /** The arguments of {@code pdpm metaserver} over {@code nodes}. */
    public List<String> metaserverArgs(String listen, List<NodeAddress> nodes, int replication) throws Exception {
        return List.of("metaserver", "--listen", listen, "--memnodes",
                nodes.stream().map(NodeAddress::toString).collect(Collectors.joining(",")),
                "--replication", Integer.toString(replication), "--secret-file", secretFile().toString());
    }

    public ChildProcess metaserver(String tag, List<String> args) throws Exception {
        return add(ChildProcess.start("metaserver " + tag, dir.resolve("metaserver-" + tag + ".log"),
                PdpmCommand.class, args));
    }

    /** Runs {@code pdpm} with {@code args} to its exit (a refusal, say). */
    public ChildProcess.Exit runToExit(String tag, List<String> args) throws Exception {
        return ChildProcess.runToExit(dir.resolve(tag + ".log"), PdpmCommand.class, args);
    }

    public RemoteMetadataService remote(NodeAddress metaserver) {
        return add(new RemoteMetadataService(metaserver, RemoteMetadataService.Options.withSecret(secret)));
    }

    /** A Clover client of its own: fabric, metadata connection and store. */
    public CloverStore client(List<NodeAddress> nodes, NodeAddress metaserver) {
        TcpFabric fabric = add(new TcpFabric(secret));
        return add(CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(remote(metaserver)).open());
    }

    @Override
    public void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        resources.clear();
    }
}
