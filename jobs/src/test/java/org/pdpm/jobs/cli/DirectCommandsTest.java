package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.rdma.tcp.MemoryNodeDaemon;

/**
 * {@code pdpm kv} and {@code pdpm bench kv} with {@code --system direct}: no server to name, the
 * command reaches the memory nodes alone (formatting blank ones). Budget: about 5 s.
 */
class DirectCommandsTest {

    private static final String SECRET = "direct-commands-test-secret";

    @TempDir
    Path dir;

    @Test
    void kvPutGetDeleteOnAMemoryNodeDaemon() throws IOException {
        try (MemoryNodeDaemon memnode = MemoryNodeDaemon.start(new MemoryNodeDaemon.Config(
                new InetSocketAddress("127.0.0.1", 0), dir.resolve("node.pm"), 16L << 20, SECRET, false))) {
            Path secretFile = Files.writeString(dir.resolve("secret"), SECRET + "\n");
            String memnodes = "127.0.0.1:" + memnode.boundAddress().getPort();
            String[] common = {"--system", "direct", "--memnodes", memnodes, "--secret-file", secretFile.toString()};

            assertThat(kv(common, "put", "greeting", "grüezi").exitCode()).isZero();
            PdpmCommandTest.Run get = kv(common, "get", "greeting");
            assertThat(get.exitCode()).as(get.err()).isZero();
            assertThat(get.out()).isEqualTo("grüezi" + System.lineSeparator());
            assertThat(kv(common, "delete", "greeting").exitCode()).isZero();
            PdpmCommandTest.Run gone = kv(common, "get", "greeting");
            assertThat(gone.exitCode()).isEqualTo(1);
            assertThat(gone.out()).isEmpty();

            PdpmCommandTest.Run wrong = kv(common, "get", "greeting", "--replication", "2");
            assertThat(wrong.exitCode()).isEqualTo(2);
            assertThat(wrong.err()).contains("replication=2").contains("replication=1");
        }
    }

    @Test
    void benchKvMeasuresDirectOnTheLocalFabric() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "direct", "--fabric", "local",
                "--keys", "2000", "--ops", "4000", "--threads", "1", "--seed", "7", "--replication", "2");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(1);
        String line = lines.get(0);
        assertThat(line).contains("\"system\":\"direct\"", "\"fabric\":\"local\"", "\"replication\":2",
                "\"metadata_server\":null");
        // A GET is one READ once the key's slot is known (more while probing from a cold cache), a PUT four.
        assertThat(roundTrips(line, "get")).isBetween(1.0, 1.5);
        assertThat(roundTrips(line, "put")).isBetween(4.0, 4.5);
    }

    /** Plain and lineage-wrapped Direct side by side: the wrapper's GETs read through a fork, its PUTs may preserve. */
    @Test
    void benchKvWithLineageRunsThePlainStoreAndTheWrappedOneSideBySide() {
        PdpmCommandTest.Run run = PdpmCommandTest.pdpm("bench", "kv", "--system", "direct", "--fabric", "local",
                "--keys", "2000", "--ops", "4000", "--threads", "1", "--seed", "7", "--lineage", "500");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"system\":\"direct\"");
        String wrapped = lines.get(1);
        assertThat(wrapped).contains("\"system\":\"direct+lineage\"", "\"lineage_checkpoint_every_ops\":500",
                "\"lineage_checkpoints\":8");
        assertThat(roundTrips(wrapped, "get")).isBetween(1.0, 3.0);
        assertThat(roundTrips(wrapped, "put")).as("a read before the first write of a key in an epoch, then the put")
                .isGreaterThan(4.5);
        assertThat(run.err()).contains("direct+lineage/1");
    }

    private static PdpmCommandTest.Run kv(String[] common, String... args) {
        String[] all = new String[1 + args.length + common.length];
        all[0] = "kv";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(common, 0, all, 1 + args.length, common.length);
        return PdpmCommandTest.pdpm(all);
    }

    private static double roundTrips(String json, String op) {
        Matcher m = Pattern.compile("\"round_trips_per_op\":\\{.*?\"" + op + "\":([0-9.]+)").matcher(json);
        assertThat(m.find()).as("round trips per " + op + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
