package org.pdpm.jobs.cli;

import org.pdpm.core.api.Lineages;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.clover.MetadataServer;
import org.pdpm.core.clover.MetadataService;
import org.pdpm.core.rpc.MetadataRpcServer;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/** {@code pdpm kv} and {@code pdpm pins} against a Clover pool served in this JVM: a memory node, a metadata server and its RPC front. */
class KvCommandTest {

    private static final String SECRET = "kv-command-test-secret";

    @TempDir
    Path dir;

    private MemoryNodeDaemon memnode;
    private TcpFabric fabric;
    private MetadataServer metadata;
    private MetadataRpcServer rpc;
    private Path secretFile;
    private String memnodes;
    private String metaserver;

    @BeforeEach
    void startPool() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        memnode = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(loopback, dir.resolve("node.pm"), 16L << 20,
                SECRET, false));
        NodeAddress node = new NodeAddress("127.0.0.1", memnode.boundAddress().getPort());
        fabric = new TcpFabric(SECRET);
        metadata = MetadataServer.open(fabric, List.of(node),
                new MetadataServer.Options(1, 1 << 20, 1 << 12, 64 << 10, 50));
        rpc = MetadataRpcServer.start(metadata, MetadataRpcServer.Config.of(loopback, SECRET));
        secretFile = Files.writeString(dir.resolve("secret"), SECRET + "\n");
        memnodes = node.toString();
        metaserver = "127.0.0.1:" + rpc.boundAddress().getPort();
    }

    @AfterEach
    void stopPool() {
        rpc.close();
        metadata.close();
        fabric.close();
        memnode.close();
    }

    @Test
    void pinsListsThePoolsPinsAndReleasesThoseOfAVanishedOwner() {
        int lineage = metadata.createLineage();
        metadata.pin(lineage, 3, "flink-job-aaaa-chk-3-x");
        metadata.pin(lineage, 4, "flink-job-aaaa-chk-4-x");
        metadata.pin(lineage, 4, "flink-job-bbbb-chk-4-y");
        String[] common = {"--metaserver", metaserver, "--secret-file", secretFile.toString()};

        PdpmCommandTest.Run list = PdpmCommandTest.pdpm(concat(new String[] {"pins"}, common));
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out().lines()).containsExactlyInAnyOrder(lineage + " 3 flink-job-aaaa-chk-3-x",
                lineage + " 4 flink-job-aaaa-chk-4-x", lineage + " 4 flink-job-bbbb-chk-4-y");

        PdpmCommandTest.Run release = PdpmCommandTest.pdpm(concat(
                new String[] {"pins", "--release-owner-prefix", "flink-job-aaaa"}, common));
        assertThat(release.exitCode()).as(release.err()).isZero();
        assertThat(release.out().lines()).hasSize(2).allMatch(l -> l.startsWith("released "));
        assertThat(metadata.pins()).extracting(Lineages.Pin::owner).containsExactly("flink-job-bbbb-chk-4-y");

        PdpmCommandTest.Run blank = PdpmCommandTest.pdpm(concat(new String[] {"pins", "--release-owner-prefix", " "},
                common));
        assertThat(blank.exitCode()).isEqualTo(2);
        assertThat(metadata.pins()).hasSize(1);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void putGetDeleteGet() {
        assertThat(kv("put", "greeting", "grüezi").exitCode()).isZero();

        PdpmCommandTest.Run get = kv("get", "greeting");
        assertThat(get.exitCode()).as(get.err()).isZero();
        assertThat(get.out()).isEqualTo("grüezi" + System.lineSeparator());

        PdpmCommandTest.Run delete = kv("delete", "greeting");
        assertThat(delete.exitCode()).as(delete.err()).isZero();
        assertThat(delete.out()).isEmpty();

        PdpmCommandTest.Run gone = kv("get", "greeting");
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.out()).isEmpty();
        assertThat(gone.err()).isEmpty();
    }

    @Test
    void aSecondPutOverwritesAndDeletingAnAbsentKeyIsFine() {
        assertThat(kv("put", "k", "one").exitCode()).isZero();
        assertThat(kv("put", "k", "two").exitCode()).isZero();
        assertThat(kv("get", "k").out()).isEqualTo("two" + System.lineSeparator());
        assertThat(kv("delete", "never-written").exitCode()).isZero();
        assertThat(kv("get", "never-written").exitCode()).isEqualTo(1);
    }

    @Test
    void badArgumentsExitTwo() {
        assertUsageError(kv("put", "k"), "put needs a VALUE");
        assertUsageError(kv("get", "k", "v"), "get takes no VALUE");
        assertUsageError(kv("fetch", "k"), "fetch");
        assertUsageError(PdpmCommandTest.pdpm("kv", "get", "k", "--system", "rocksdb", "--memnodes", memnodes),
                "--system=rocksdb");
        assertUsageError(PdpmCommandTest.pdpm("kv", "get", "k", "--system", "clover", "--memnodes", memnodes),
                "--metaserver is required");
        assertUsageError(kv("get", "k", "--replication", "2"), "formatted with replication 1");
        assertUsageError(PdpmCommandTest.pdpm("kv", "get", "k", "--system", "clover", "--memnodes", memnodes,
                "--metaserver", metaserver, "--secret-file", dir.resolve("missing").toString()), "secret file");
    }

    @Test
    void anUnreachableMetadataServerIsOneLineAndExitOne() {
        rpc.close();
        PdpmCommandTest.Run run = kv("get", "k");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines().toList()).hasSize(1).first().asString().startsWith("pdpm kv: ").contains(metaserver);
    }

    @Test
    void helpNamesEveryOption() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("kv", "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("get|put|delete", "--system", "--memnodes", "--metaserver", "--replication",
                "--secret-file");
    }

    private PdpmCommandTest.Run kv(String... args) {
        String[] all = new String[args.length + 10];
        all[0] = "kv";
        System.arraycopy(args, 0, all, 1, args.length);
        String[] common = {"--system", "clover", "--memnodes", memnodes, "--metaserver", metaserver,
            "--secret-file", secretFile.toString()};
        System.arraycopy(common, 0, all, 1 + args.length, common.length);
        return PdpmCommandTest.pdpm(Arrays.copyOf(all, 1 + args.length + common.length));
    }

    private static void assertUsageError(PdpmCommandTest.Run run, String reason) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("pdpm kv: ").contains(reason);
    }
}
