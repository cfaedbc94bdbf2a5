package org.pdpm.jobs.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.central.CentralStore;
import org.pdpm.core.rpc.RemoteCoordinator;
import org.pdpm.jobs.cli.PdpmCommand;
import org.pdpm.jobs.testing.ChildProcess;
import org.pdpm.jobs.testing.ProcessCluster;
import org.pdpm.rdma.api.NodeAddress;

/**
 * {@code pdpm coordinator} as a real process between two real memory nodes (R = 2): killed with
 * {@code kill -9} under load from four Central clients, restarted on the same port, and checked key
 * by key against what the clients were told; then bad input, a wrong secret and SIGTERM.
 * Budget: about 30 s (three JVMs start per test).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CoordinatorProcessTest {

    private static final String SECRET = "coordinator-test";
    private static final String NODE_SIZE = "32m";
    private static final int THREADS = 4;
    private static final int PUTS_BEFORE_KILL = THREADS * 500;
    private static final int PUTS_AFTER_RESTART = 200;
    private static final Pattern RECOVERED = Pattern.compile("recovered (\\d+) keys in (\\d+) ms");

    @TempDir
    Path dir;

    private ProcessCluster cluster;

    @BeforeEach
    void startCluster() {
        cluster = new ProcessCluster(dir, SECRET, NODE_SIZE);
    }

    @AfterEach
    void cleanUp() throws Exception {
        cluster.close();
    }

    private List<String> coordinatorArgs(String listen, List<NodeAddress> nodes, int replication) throws Exception {
        return List.of("coordinator", "--listen", listen, "--memnodes",
                nodes.stream().map(NodeAddress::toString).collect(Collectors.joining(",")),
                "--replication", Integer.toString(replication), "--secret-file", cluster.secretFile().toString());
    }

    private ChildProcess coordinator(String tag, String listen, List<NodeAddress> nodes) throws Exception {
        return cluster.add(ChildProcess.start("coordinator " + tag, dir.resolve("coordinator-" + tag + ".log"),
                PdpmCommand.class, coordinatorArgs(listen, nodes, 2)));
    }

    private CentralStore client(NodeAddress coordinator) {
        RemoteCoordinator remote = cluster.add(new RemoteCoordinator(coordinator,
                RemoteCoordinator.Options.withSecret(SECRET)));
        return CentralStore.builder().coordinator(remote).open();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private enum Phase { LOAD, DOWN, UP, STOP }

    /** What a client was told about one key: the last acknowledged value and later puts that failed. */
    private static final class KeyModel {
        String acked;
        final List<String> unknown = new ArrayList<>();

        boolean allows(String value) {
            return value == null ? acked == null : value.equals(acked) || unknown.contains(value);
        }
    }

    /** One client thread's writes. */
    private static final class Writer {
        final int id;
        final CentralStore store;
        final Map<String, KeyModel> model = new HashMap<>();
        final List<String> keys = new ArrayList<>();
        final Random random;
        int next;
        int refusedWhileDown;
        int putsAfterRestart;

        Writer(int id, CentralStore store) {
            this.id = id;
            this.store = store;
            this.random = new Random(20261126L + id);
        }

        /** True when acknowledged; a failure is recorded as an unknown outcome. */
        boolean put(String key) {
            KeyModel m = model.computeIfAbsent(key, k -> new KeyModel());
            if (m.acked == null && m.unknown.isEmpty()) {
                keys.add(key);
            }
            String value = key + "#" + (next++) + "-" + "x".repeat(random.nextInt(200));
            try {
                store.put(b(key), b(value));
            } catch (StoreUnavailableException e) {
                m.unknown.add(value);
                return false;
            }
            m.acked = value;
            m.unknown.clear();
            return true;
        }

        String anyKey() {
            return keys.get(random.nextInt(keys.size()));
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesKillNineOfTheCoordinatorUnderLoad() throws Exception {
        List<NodeAddress> nodes = List.of(cluster.memnode(0, "127.0.0.1:0", "").address(),
                cluster.memnode(1, "127.0.0.1:0", "").address());
        ChildProcess first = coordinator("first", "127.0.0.1:0", nodes);
        NodeAddress address = first.address();

        List<Writer> writers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            writers.add(new Writer(t, client(address)));
        }
        AtomicLong acks = new AtomicLong();
        AtomicReference<Phase> phase = new AtomicReference<>(Phase.LOAD);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        cluster.add(threads::shutdownNow);
        List<Future<?>> running = new ArrayList<>();
        for (Writer w : writers) {
            running.add(threads.submit(() -> {
                run(w, phase, acks, address);
                return null;
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.get() < PUTS_BEFORE_KILL && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(acks.get()).as("puts acknowledged before the kill").isGreaterThanOrEqualTo(PUTS_BEFORE_KILL);
        first.kill9();
        long acksAtKill = acks.get();
        phase.set(Phase.DOWN);
        Thread.sleep(1000);

        ChildProcess second = coordinator("second", address.toString(), nodes);
        assertThat(second.address()).isEqualTo(address);
        Matcher recovered = RECOVERED.matcher(second.log());
        assertThat(recovered.find()).as("recovery line in the log:%n%s", second.log()).isTrue();
        System.out.printf("coordinator restart after kill -9: recovered %s keys in %s ms; process start to 'listening"
                + " on' %d ms (%d puts acknowledged before the kill)%n", recovered.group(1), recovered.group(2),
                second.startMillis(), acksAtKill);
        phase.set(Phase.UP);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (writers.stream().anyMatch(w -> w.putsAfterRestart < PUTS_AFTER_RESTART) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        phase.set(Phase.STOP);
        for (Future<?> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }
        CentralStore reader = client(address);
        int checked = 0;
        for (Writer w : writers) {
            assertThat(w.refusedWhileDown).as("puts refused while the coordinator was down").isPositive();
            assertThat(w.putsAfterRestart).as("puts acknowledged after the restart").isEqualTo(PUTS_AFTER_RESTART);
            for (Map.Entry<String, KeyModel> e : w.model.entrySet()) {
                String found = s(reader.get(b(e.getKey())));
                assertThat(e.getValue().allows(found)).as("key %s holds '%s'; acknowledged '%s', unknown %s",
                        e.getKey(), found, e.getValue().acked, e.getValue().unknown).isTrue();
                checked++;
            }
        }
        System.out.printf("%d keys read back as acknowledged%n", checked);
    }

    /**
     * A memory node killed with {@code kill -9} under load (R = 2): the coordinator takes it out,
     * writes go on on the other replica, and neither the coordinator nor a restarted one (which finds
     * the node still out, durably) loses an acknowledged write.
     */
    @Test
    void everyAcknowledgedWriteSurvivesKillNineOfAMemoryNodeUnderLoad() throws Exception {
        ChildProcess doomed = cluster.memnode(1, "127.0.0.1:0", "");
        List<NodeAddress> nodes = List.of(cluster.memnode(0, "127.0.0.1:0", "").address(), doomed.address());
        ChildProcess first = coordinator("first", "127.0.0.1:0", nodes);
        NodeAddress address = first.address();
        List<Writer> writers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            writers.add(new Writer(t, client(address)));
        }
        AtomicLong acks = new AtomicLong();
        AtomicReference<Phase> phase = new AtomicReference<>(Phase.LOAD);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        cluster.add(threads::shutdownNow);
        List<Future<?>> running = new ArrayList<>();
        for (Writer w : writers) {
            running.add(threads.submit(() -> {
                run(w, phase, acks, address);
                return null;
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acks.get() < PUTS_BEFORE_KILL && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        doomed.kill9();
        long acksAtKill = acks.get();
        while (acks.get() < acksAtKill + PUTS_BEFORE_KILL && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        phase.set(Phase.STOP);
        for (Future<?> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertThat(acks.get()).as("puts acknowledged after the node's death").isGreaterThanOrEqualTo(acksAtKill
                + PUTS_BEFORE_KILL);
        RemoteCoordinator remote = cluster.add(new RemoteCoordinator(address, RemoteCoordinator.Options.withSecret(SECRET)));
        assertThat(remote.membership().outNodes()).containsExactly(1);
        checkEveryKey(client(address), writers, "after the node's death");

        first.kill9();
        ChildProcess second = coordinator("second", address.toString(), nodes);
        assertThat(remote.membership().outNodes()).as("the decision is durable").containsExactly(1);
        checkEveryKey(client(second.address()), writers, "after a coordinator restart");
    }

    private static void checkEveryKey(CentralStore reader, List<Writer> writers, String when) {
        int checked = 0;
        for (Writer w : writers) {
            for (Map.Entry<String, KeyModel> e : w.model.entrySet()) {
                String found = s(reader.get(b(e.getKey())));
                assertThat(e.getValue().allows(found)).as("%s: key %s holds '%s'; acknowledged '%s', unknown %s", when,
                        e.getKey(), found, e.getValue().acked, e.getValue().unknown).isTrue();
                checked++;
            }
        }
        System.out.printf("%s: %d keys read back as acknowledged%n", when, checked);
    }

    /** One client's loop: new keys and overwrites; while the coordinator is down every put fails. */
    private static void run(Writer w, AtomicReference<Phase> phase, AtomicLong acks, NodeAddress address)
            throws InterruptedException {
        while (true) {
            switch (phase.get()) {
                case LOAD -> {
                    boolean overwrite = !w.keys.isEmpty() && w.random.nextInt(4) == 0;
                    if (w.put(overwrite ? w.anyKey() : "w" + w.id + "-k" + w.next)) {
                        acks.incrementAndGet();
                    }
                }
                case DOWN -> {
                    try {
                        w.store.get(b(w.anyKey()));
                    } catch (StoreUnavailableException e) {
                        assertThat(e).hasMessageContaining("coordinator at " + address);
                    }
                    if (!w.put(w.anyKey())) {
                        w.refusedWhileDown++;
                    }
                    Thread.sleep(5);
                }
                case UP -> {
                    if (w.putsAfterRestart < PUTS_AFTER_RESTART) {
                        boolean overwrite = w.random.nextInt(4) == 0;
                        assertThat(w.put(overwrite ? w.anyKey() : "w" + w.id + "-u" + w.next)).as("put after the restart")
                                .isTrue();
                        w.putsAfterRestart++;
                    } else {
                        Thread.sleep(5);
                    }
                }
                case STOP -> {
                    return;
                }
            }
        }
    }

    @Test
    void sigtermStopsCleanlyAndBadInputOrAnUnreachableNodeFailsInOneLine() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        ChildProcess.Exit unreachable = cluster.runToExit("coordinator-unreachable", List.of("coordinator", "--listen",
                "127.0.0.1:0", "--memnodes", "127.0.0.1:" + closedPort, "--replication", "1"));
        assertThat(unreachable.code()).isEqualTo(1);
        assertThat(reasonLine(unreachable)).contains("cannot connect to memory node at 127.0.0.1:" + closedPort);

        ChildProcess.Exit badR = cluster.runToExit("coordinator-bad-r", List.of("coordinator", "--listen", "127.0.0.1:0",
                "--memnodes", "127.0.0.1:1,127.0.0.1:2", "--replication", "4"));
        assertThat(badR.code()).isEqualTo(2);
        assertThat(reasonLine(badR)).contains("--replication=4 must be 1..3");

        ChildProcess.Exit notMultiple = cluster.runToExit("coordinator-not-multiple", List.of("coordinator", "--listen",
                "127.0.0.1:0", "--memnodes", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", "--replication", "2"));
        assertThat(notMultiple.code()).isEqualTo(2);
        assertThat(reasonLine(notMultiple)).contains("3 memory nodes are not a multiple of --replication=2");

        List<NodeAddress> nodes = List.of(cluster.memnode(0, "127.0.0.1:0", "").address(),
                cluster.memnode(1, "127.0.0.1:0", "").address());
        ChildProcess c = coordinator("term", "127.0.0.1:0", nodes);
        try (RemoteCoordinator wrong = new RemoteCoordinator(c.address(),
                RemoteCoordinator.Options.withSecret("not-" + SECRET))) {
            assertThatThrownBy(wrong::info).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("coordinator at " + c.address() + " refused this client: wrong secret");
        }
        client(c.address()).put(b("k"), b("v"));
        assertThat(c.terminate()).isZero();
        assertThat(c.log()).contains("coordinator stopped cleanly");

        ChildProcess.Exit otherR = cluster.runToExit("coordinator-other-r", coordinatorArgs("127.0.0.1:0", nodes, 1));
        assertThat(otherR.code()).isEqualTo(2);
        assertThat(reasonLine(otherR)).contains("formatted with replication=2, not 1");

        ChildProcess.Exit swapped = cluster.runToExit("coordinator-swapped",
                coordinatorArgs("127.0.0.1:0", List.of(nodes.get(1), nodes.get(0)), 2));
        assertThat(swapped.code()).isEqualTo(2);
        assertThat(reasonLine(swapped)).contains("original order");
    }

    private static String reasonLine(ChildProcess.Exit exit) {
        List<String> lines = exit.stderr().lines().filter(l -> l.startsWith("pdpm coordinator: ")).toList();
        assertThat(lines).as("stderr:%n%s", exit.stderr()).hasSize(1);
        return lines.get(0);
    }
}
