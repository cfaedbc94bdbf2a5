package org.pdpm.jobs.metaserver;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.clover.CloverStore;
import org.pdpm.core.rpc.RemoteMetadataService;
import org.pdpm.jobs.testing.ChildProcess;
import org.pdpm.jobs.testing.ProcessCluster;
import org.pdpm.rdma.api.NodeAddress;

/**
 * {@code pdpm metaserver} as a real process between two real memory nodes (R = 2): killed with
 * {@code kill -9} under load from four Clover clients, restarted on the same port, and checked
 * key by key against what the clients were told.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MetaserverProcessTest {

    private static final String SECRET = "metaserver-test";
    private static final String NODE_SIZE = "96m";
    private static final int THREADS = 4;
    /** Acknowledged puts before the kill, so it lands while a real load is running. */
    private static final int PUTS_BEFORE_KILL = THREADS * 1500;
    /** Puts each client makes after the restart. */
    private static final int PUTS_AFTER_RESTART = 400;
    private static final long DOWN_MILLIS = 1500;
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

    private ChildProcess memnode(int i) throws Exception {
        return cluster.memnode(i, "127.0.0.1:0", "");
    }

    private ChildProcess metaserver(String tag, String listen, List<NodeAddress> nodes) throws Exception {
        return cluster.metaserver(tag, cluster.metaserverArgs(listen, nodes, 2));
    }

    /** {@code pdpm metaserver} with {@code args}, run to its exit. */
    private ChildProcess.Exit metaserverToExit(String tag, List<String> args) throws Exception {
        List<String> all = new ArrayList<>();
        all.add("metaserver");
        all.addAll(args);
        return cluster.runToExit("metaserver-" + tag, all);
    }

    private CloverStore client(List<NodeAddress> nodes, NodeAddress metaserver) {
        return cluster.client(nodes, metaserver);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private enum Phase { LOAD, DOWN, PAUSE, UP, STOP }

    /** What a client was told about one key: the last acknowledged value and later puts that failed. */
    private static final class KeyModel {
        String acked;
        final List<String> unknown = new ArrayList<>();

        void acknowledged(String value) {
            acked = value;
            unknown.clear();
        }

        /** A failed put may still have taken effect (its answer may be what was lost). */
        boolean allows(String value) {
            return value == null ? acked == null : value.equals(acked) || unknown.contains(value);
        }
    }

    /** One client thread's writes, and what it saw while the metadata server was down. */
    private static final class Writer {
        final int id;
        final CloverStore store;
        final Map<String, KeyModel> model = new HashMap<>();
        final List<String> acked = new ArrayList<>();
        final Random random;
        int next;
        int putsAfterRestart;
        int cachedGetsWhileDown;
        int overwritesWhileDown;
        int overwritesRefusedWhileDown;
        int newKeysRefusedWhileDown;

        Writer(int id, CloverStore store) {
            this.id = id;
            this.store = store;
            this.random = new Random(20261207L + id);
        }

        String newKey(String tag) {
            return "w" + id + "-" + tag + (next++);
        }

        /** Null when acknowledged; a refusal is recorded as an unknown outcome and returned. */
        StoreUnavailableException put(String key, String tag) {
            KeyModel m = model.computeIfAbsent(key, k -> new KeyModel());
            String value = key + "#" + tag + (next++) + "-" + "x".repeat(random.nextInt(100));
            try {
                store.put(b(key), b(value));
            } catch (StoreUnavailableException e) {
                m.unknown.add(value);
                return e;
            }
            if (m.acked == null) {
                acked.add(key);
            }
            m.acknowledged(value);
            return null;
        }

        String cachedKey() {
            return acked.get(random.nextInt(acked.size()));
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesKillNineOfTheMetaserverUnderLoad() throws Exception {
        List<NodeAddress> nodes = List.of(memnode(0).address(), memnode(1).address());
        ChildProcess first = metaserver("first", "127.0.0.1:0", nodes);
        NodeAddress ms = first.address();

        List<Writer> writers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            writers.add(new Writer(t, client(nodes, ms)));
        }
        AtomicLong acks = new AtomicLong();
        AtomicInteger doneAfterRestart = new AtomicInteger();
        AtomicReference<Phase> phase = new AtomicReference<>(Phase.LOAD);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        cluster.add(threads::shutdownNow);
        List<Future<?>> running = new ArrayList<>();
        for (Writer w : writers) {
            running.add(threads.submit(() -> {
                write(w, phase, acks, doneAfterRestart, ms);
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
        Thread.sleep(200);
        phase.set(Phase.DOWN);
        Thread.sleep(DOWN_MILLIS);
        phase.set(Phase.PAUSE);
        Thread.sleep(50);

        ChildProcess second = metaserver("second", ms.toString(), nodes);
        assertThat(second.address()).isEqualTo(ms);
        Matcher recovered = RECOVERED.matcher(second.log());
        assertThat(recovered.find()).as("recovery line in the log:%n%s", second.log()).isTrue();
        long keysRecovered = Long.parseLong(recovered.group(1));
        System.out.printf("metaserver restart after kill -9: recovered %d keys in %s ms; process start to"
                        + " 'listening on' %d ms (%d puts acknowledged before the kill)%n",
                keysRecovered, recovered.group(2), second.startMillis(), acksAtKill);

        int ackedKeys = writers.stream().mapToInt(w -> w.acked.size()).sum();
        assertThat(keysRecovered).as("every acknowledged key is in the recovered index").isGreaterThanOrEqualTo(ackedKeys);
        CloverStore reader = client(nodes, ms);
        checkEveryKey(reader, writers, "after the restart");

        // More writes from the old clients (reconnecting by themselves) and from a new one: nothing
        // written before may be overwritten by them.
        phase.set(Phase.UP);
        Writer fresh = new Writer(THREADS, reader);
        for (int i = 0; i < PUTS_AFTER_RESTART; i++) {
            assertThat(fresh.put(fresh.newKey("n"), "n")).isNull();
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (doneAfterRestart.get() < THREADS && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        phase.set(Phase.STOP);
        for (Future<?> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }
        writers.add(fresh);
        checkEveryKey(client(nodes, ms), writers, "after more writes");

        for (Writer w : writers.subList(0, THREADS)) {
            assertThat(w.cachedGetsWhileDown).as("cached GETs while the metaserver was down").isPositive();
            assertThat(w.overwritesWhileDown).as("overwrites of cached keys while it was down").isPositive();
            assertThat(w.newKeysRefusedWhileDown).as("new keys refused while it was down").isPositive();
            assertThat(w.putsAfterRestart).isEqualTo(PUTS_AFTER_RESTART);
        }
        System.out.printf("while down: %d cached GETs and %d overwrites served, %d overwrites and %d new keys"
                        + " refused%n",
                writers.stream().mapToInt(w -> w.cachedGetsWhileDown).sum(),
                writers.stream().mapToInt(w -> w.overwritesWhileDown).sum(),
                writers.stream().mapToInt(w -> w.overwritesRefusedWhileDown).sum(),
                writers.stream().mapToInt(w -> w.newKeysRefusedWhileDown).sum());
    }

    /** One client's loop: new keys and overwrites; while the server is down, what still works. */
    private static void write(Writer w, AtomicReference<Phase> phase, AtomicLong acks, AtomicInteger doneAfterRestart, NodeAddress ms)
            throws InterruptedException {
        boolean counted = false;
        while (true) {
            switch (phase.get()) {
                case LOAD -> {
                    boolean overwrite = !w.acked.isEmpty() && w.random.nextInt(4) == 0;
                    if (w.put(overwrite ? w.cachedKey() : w.newKey("k"), "l") == null) {
                        acks.incrementAndGet();
                    }
                }
                case DOWN -> {
                    String cached = w.cachedKey();
                    assertThat(w.model.get(cached).allows(s(w.store.get(b(cached)))))
                            .as("cached GET of %s while down", cached).isTrue();
                    w.cachedGetsWhileDown++;
                    StoreUnavailableException e = w.put(cached, "d");
                    if (e == null) {
                        w.overwritesWhileDown++;
                    } else {
                        // Only a client whose block is full needs the server to overwrite.
                        assertThat(e).hasMessageContaining("metadata server at " + ms)
                                .hasMessageContaining("could not get space");
                        w.overwritesRefusedWhileDown++;
                    }
                    StoreUnavailableException refused = w.put(w.newKey("d"), "d");
                    assertThat(refused).as("a new key needs the metadata server").isNotNull();
                    assertThat(refused).hasMessageContaining("metadata server at " + ms + " is unreachable")
                            .hasMessageMatching("(?s).*could not (create a key|get space).*");
                    w.newKeysRefusedWhileDown++;
                    Thread.sleep(5);
                }
                case PAUSE -> Thread.sleep(5);
                case UP -> {
                    if (w.putsAfterRestart < PUTS_AFTER_RESTART) {
                        boolean overwrite = w.random.nextInt(4) == 0;
                        StoreUnavailableException e = w.put(overwrite ? w.cachedKey() : w.newKey("u"), "u");
                        assertThat(e).as("put after the restart").isNull();
                        if (++w.putsAfterRestart == PUTS_AFTER_RESTART && !counted) {
                            counted = true;
                            doneAfterRestart.incrementAndGet();
                        }
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

    private static void checkEveryKey(CloverStore reader, List<Writer> writers, String when) {
        int checked = 0;
        for (Writer w : writers) {
            for (Map.Entry<String, KeyModel> e : w.model.entrySet()) {
                String found = s(reader.get(b(e.getKey())));
                KeyModel m = e.getValue();
                assertThat(m.allows(found)).as("%s: key %s holds '%s'; acknowledged '%s', unknown %s", when,
                        e.getKey(), found, m.acked, m.unknown).isTrue();
                checked++;
            }
        }
        System.out.printf("%s: %d keys read back as acknowledged%n", when, checked);
    }

    @Test
    void sigtermStopsCleanlyAndBadInputOrAnUnreachableNodeFailsInOneLine() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        ChildProcess.Exit unreachable = metaserverToExit("unreachable", List.of("--listen", "127.0.0.1:0",
                "--memnodes", "127.0.0.1:" + closedPort, "--replication", "1"));
        assertThat(unreachable.code()).isEqualTo(1);
        assertThat(reasonLine(unreachable)).contains("cannot connect to memory node at 127.0.0.1:" + closedPort);

        ChildProcess.Exit badR = metaserverToExit("bad-r", List.of("--listen", "127.0.0.1:0",
                "--memnodes", "127.0.0.1:1,127.0.0.1:2", "--replication", "4"));
        assertThat(badR.code()).isEqualTo(2);
        assertThat(reasonLine(badR)).contains("--replication=4 must be 1..3");

        ChildProcess.Exit badAddress = metaserverToExit("bad-address", List.of("--listen", "127.0.0.1:0",
                "--memnodes", "no-port-here"));
        assertThat(badAddress.code()).isEqualTo(2);
        assertThat(reasonLine(badAddress)).contains("no-port-here");

        List<NodeAddress> nodes = List.of(memnode(0).address(), memnode(1).address());
        ChildProcess ms = metaserver("term", "127.0.0.1:0", nodes);
        try (RemoteMetadataService wrong = new RemoteMetadataService(ms.address(),
                RemoteMetadataService.Options.withSecret("not-" + SECRET))) {
            assertThatThrownBy(wrong::pool).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("metadata server at " + ms.address() + " refused this client: wrong secret");
        }
        client(nodes, ms.address()).put(b("k"), b("v"));
        assertThat(ms.terminate()).isZero();
        assertThat(ms.log()).contains("metadata server stopped cleanly");

        ChildProcess.Exit otherR = cluster.runToExit("metaserver-other-r", cluster.metaserverArgs("127.0.0.1:0", nodes, 1));
        assertThat(otherR.code()).isEqualTo(2);
        assertThat(reasonLine(otherR)).contains("formatted with replication=2, not 1");

        ChildProcess.Exit swapped = cluster.runToExit("metaserver-swapped",
                cluster.metaserverArgs("127.0.0.1:0", List.of(nodes.get(1), nodes.get(0)), 2));
        assertThat(swapped.code()).isEqualTo(2);
        assertThat(reasonLine(swapped)).contains("original order");
    }

    /** The command's one line on stderr ({@code pdpm metaserver: reason}); logs may surround it. */
    private static String reasonLine(ChildProcess.Exit exit) {
        List<String> lines = exit.stderr().lines().filter(l -> l.startsWith("pdpm metaserver: ")).toList();
        assertThat(lines).as("stderr:%n%s", exit.stderr()).hasSize(1);
        return lines.get(0);
    }
}
