package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.central.Coordinator;
import org.pdpm.core.rpc.CoordinatorRpcServer;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * {@code pdpm kv --system central} against a coordinator served in this JVM over a tcp memory node,
 * and {@code pdpm bench kv --system central} on both fabrics, whose round trips per operation are
 * DESIGN §3's: GET 2, PUT 3. Budget: about 15 s.
 */
class CentralCommandsTest {

    private static final String SECRET = "central-commands-test";

    @TempDir
    Path dir;

    private MemoryNodeDaemon memnode;
    private TcpFabric fabric;
    private Coordinator coordinator;
    private CoordinatorRpcServer rpc;
    private Path secretFile;
    private String memnodes;
    private String address;

    @BeforeEach
    void startPool() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        memnode = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(loopback, dir.resolve("node.pm"), 8L << 20,
                SECRET, false));
        NodeAddress node = new NodeAddress("127.0.0.1", memnode.boundAddress().getPort());
        fabric = new TcpFabric(SECRET);
        coordinator = Coordinator.open(fabric, List.of(node), Coordinator.Options.defaults(1));
        rpc = CoordinatorRpcServer.start(coordinator, CoordinatorRpcServer.Config.of(loopback, SECRET));
        secretFile = Files.writeString(dir.resolve("secret"), SECRET + "\n");
        memnodes = node.toString();
        address = "127.0.0.1:" + rpc.boundAddress().getPort();
    }

    @AfterEach
    void stopPool() {
        rpc.close();
        coordinator.close();
        fabric.close();
        memnode.close();
    }

    @Test
    void kvPutGetDeleteGetThroughTheCoordinator() {
        assertThat(kv("put", "greeting", "grüezi").exitCode()).isZero();
        PdpmCommandTest.Run get = kv("get", "greeting");
        assertThat(get.exitCode()).as(get.err()).isZero();
        assertThat(get.out()).isEqualTo("grüezi" + System.lineSeparator());
        assertThat(kv("delete", "greeting").exitCode()).isZero();
        PdpmCommandTest.Run gone = kv("get", "greeting");
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.out()).isEmpty();
        assertThat(gone.err()).isEmpty();
        assertThat(coordinator.keyCount()).isZero();
    }

    @Test
    void coordinatorRefusesSlotSizesThatCannotBe() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("coordinator", "--listen", "127.0.0.1:0", "--memnodes",
                memnodes, "--max-key-bytes", "0");
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).startsWith("pdpm coordinator: ").contains("maxKeyBytes=0");
    }

    @Test
    void kvBadArgumentsExitTwoAndAStoppedCoordinatorOne() {
        assertUsageError(PdpmCommandTest.pdpm("kv", "get", "k", "--system", "central", "--memnodes", memnodes),
                "--coordinator is required for --system=central");
        assertUsageError(kv("get", "k", "--replication", "2"), "formatted with replication 1");
        assertUsageError(PdpmCommandTest.pdpm("kv", "get", "k", "--system", "central", "--memnodes",
                memnodes + "," + memnodes, "--coordinator", address, "--secret-file", secretFile.toString()),
                "2 memory nodes given but the pool of the coordinator at " + address + " has 1");
        rpc.close();
        PdpmCommandTest.Run run = kv("get", "k");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err().lines().toList()).hasSize(1).first().asString().startsWith("pdpm kv: ")
                .contains("coordinator at " + address);
    }

    @Test
    void benchKvMeasuresCentralOnLocalAndTcpAtTwoAndThreeRoundTrips() {
        for (String fabricKind : List.of("local", "tcp")) {
            PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "central", "--fabric", fabricKind,
                    "--replication", "2", "--workload", "a", "--keys", "500", "--ops", "1000", "--threads", "1,2",
                    "--value-size", "100", "--seed", "3");
            assertThat(run.exitCode()).as(run.err()).isZero();
            List<String> lines = run.out().lines().toList();
            assertThat(lines).hasSize(2);
            for (String line : lines) {
                assertThat(text(line, "system")).isEqualTo("central");
                assertThat(text(line, "fabric")).isEqualTo(fabricKind);
                assertThat(roundTrips(line, "get")).as(line).isEqualTo(2.0);
                assertThat(roundTrips(line, "put")).as(line).isEqualTo(3.0);
            }
        }
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
    }

    private PdpmCommandTest.Run kv(String... args) {
        List<String> all = new ArrayList<>();
        all.add("kv");
        all.addAll(List.of(args));
        all.addAll(List.of("--system", "central", "--memnodes", memnodes, "--coordinator", address,
                "--secret-file", secretFile.toString()));
        return PdpmCommandTest.pdpm(all.toArray(String[]::new));
    }

    private static void assertUsageError(PdpmCommandTest.Run run, String reason) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("pdpm kv: ").contains(reason);
    }

    private static double roundTrips(String json, String op) {
        Matcher m = Pattern.compile("\"round_trips_per_op\":\\{.*?\"" + op + "\":([0-9.]+)").matcher(json);
        assertThat(m.find()).as("round trips per " + op + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static String text(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":\"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as("field " + field + " in " + json).isTrue();
        return m.group(1);
    }
}
