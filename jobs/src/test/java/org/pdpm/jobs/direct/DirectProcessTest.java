package org.pdpm.jobs.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvLimits;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.core.direct.DirectStore;
import org.pdpm.jobs.testing.ChildProcess;
import org.pdpm.jobs.testing.ProcessCluster;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.tcp.TcpFabric;

/**
 * pDPM-Direct with real processes killed by {@code kill -9}: a memory node under load, and a client
 * process while it holds lock words. Direct has no server, so the memory nodes are the only
 * daemons ({@code pdpm memnode}); the clients are {@link DirectStore}s in this JVM and, for the
 * second test, {@link DirectHotKeyClient} in a JVM of its own.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DirectProcessTest {

    private static final String SECRET = "direct-process-test";
    private static final String NODE_SIZE = "16m";
    private static final KvLimits LIMITS = new KvLimits(64, 1024);
    private static final long AWAIT_SECONDS = 60;

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

    /** A client of its own (fabric and store), closed with the cluster; formats blank nodes. */
    private DirectStore client(List<NodeAddress> nodes, Duration lease, Duration membershipLease) {
        TcpFabric fabric = cluster.add(new TcpFabric(SECRET));
        return cluster.add(DirectStore.builder().fabric(fabric).memoryNodes(nodes).replication(2).limits(LIMITS)
                .lease(lease).membershipLease(membershipLease).open());
    }

    private List<ChildProcess> memnodes(int count) throws Exception {
        List<ChildProcess> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            nodes.add(cluster.memnode(i, "127.0.0.1:0", ""));
        }
        return nodes;
    }

    private static List<NodeAddress> addresses(List<ChildProcess> processes) {
        return processes.stream().map(ChildProcess::address).toList();
    }

    // ---------------------------------------------------------------- a memory node killed

    private static final int WRITERS = 3;
    private static final int KEYS_PER_WRITER = 100;
    private static final int PUTS_BEFORE_KILL = 200;
    private static final int PUTS_AFTER_KILL = 600;
    private static final Duration MEMBERSHIP_LEASE = Duration.ofMillis(250);

    /**
     * Four {@code pdpm memnode} processes, R = 2 (two replica groups: Direct's membership needs a
     * majority of all the pool's nodes to take one out, so of two nodes a dead one could not be
     * taken out and writes would stop). Node 0 — group 0's primary, the ordered index's and the
     * format's node — is killed with {@code kill -9} under three writers that overwrite and create
     * keys. They take it out, go on (creations included), and every acknowledged value is read
     * back, by key and by scan. Node 0 is then restarted on its port with its stale PM file: a
     * client opened afterwards still has it out; once node 1, the last of group 0 in service, is
     * killed too, every read either returns the acknowledged value or fails — none is served from
     * node 0's stale copy. Budget: about 15–20 s (four memory-node JVMs, one restart).
     */
    @Test
    void killNineOfAMemoryNodeUnderLoadLosesNothingAndTheReturningNodeStaysOut() throws Exception {
        List<ChildProcess> memnodes = memnodes(4);
        List<NodeAddress> nodes = addresses(memnodes);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicLong acks = new AtomicLong();
        AtomicLong createdAfterKill = new AtomicLong();
        AtomicBoolean killed = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        cluster.add(() -> stop.set(true));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<DirectStore> stores = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < WRITERS; t++) {
            DirectStore store = client(nodes, Duration.ofSeconds(2), MEMBERSHIP_LEASE);
            stores.add(store);
            int id = t;
            Thread w = new Thread(() -> {
                try {
                    for (long n = 0; !stop.get(); n++) {
                        String key = "w" + id + "/" + (n % KEYS_PER_WRITER);
                        String value = key + "@" + n;
                        boolean afterKill = killed.get();
                        store.put(b(key), b(value));
                        acknowledged.put(key, value);
                        acks.incrementAndGet();
                        if (afterKill && n < KEYS_PER_WRITER) {
                            createdAfterKill.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "writer-" + t);
            w.setDaemon(true);
            w.start();
            writers.add(w);
        }
        await(() -> acks.get() >= PUTS_BEFORE_KILL || failure.get() != null, "puts before the kill");
        assertThat(failure.get()).as("a writer failed before the kill").isNull();
        memnodes.get(0).kill9();
        killed.set(true);
        long atKill = acks.get();
        await(() -> acks.get() >= atKill + PUTS_AFTER_KILL || failure.get() != null, "puts after the kill");
        stop.set(true);
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(AWAIT_SECONDS));
        }
        assertThat(failure.get()).as("a writer failed").isNull();
        assertThat(createdAfterKill.get()).as("keys created after the kill").isPositive();
        for (DirectStore s : stores) {
            assertThat(s.outNodes()).as("a writer's view").containsExactly(0);
        }
        System.out.printf("memory node kill -9 under load (Direct, R = 2, 4 nodes): %d puts acknowledged before, %d"
                + " after (%d creations)%n", atKill, acks.get() - atKill, createdAfterKill.get());

        DirectStore fresh = client(nodes, Duration.ofSeconds(2), MEMBERSHIP_LEASE);
        assertThat(fresh.outNodes()).containsExactly(0);
        checkEveryKey(fresh, acknowledged, "after the kill");

        // Node 0 comes back on its port with the PM file it had when it died.
        ChildProcess returned = cluster.memnode(0, nodes.get(0).toString(), "-returned");
        assertThat(returned.address()).isEqualTo(nodes.get(0));
        DirectStore late = client(nodes, Duration.ofSeconds(2), MEMBERSHIP_LEASE);
        assertThat(late.outNodes()).as("a client opened after the node returned").containsExactly(0);
        assertThat(fresh.outNodes()).as("a client opened before").containsExactly(0);
        for (DirectStore s : stores) {
            assertThat(s.outNodes()).as("a writer's view after the node returned").containsExactly(0);
        }
        checkEveryKey(late, acknowledged, "after the node returned");
        for (int i = 0; i < KEYS_PER_WRITER; i++) {
            String key = "w0/" + i;
            late.put(b(key), b(key + "@after-the-return"));
            acknowledged.put(key, key + "@after-the-return");
        }

        // Node 1, the last of group 0 in service, dies: what group 0 held must not come from node 0.
        memnodes.get(1).kill9();
        int served = 0;
        List<String> refusals = new ArrayList<>();
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            try {
                assertThat(s(late.get(b(e.getKey())))).as("%s with group 0 gone", e.getKey()).isEqualTo(e.getValue());
                served++;
            } catch (StoreUnavailableException unavailable) {
                refusals.add(unavailable.getMessage());
            }
        }
        assertThat(refusals).as("reads refused with group 0 gone (%d served)", served).isNotEmpty()
                .allMatch(m -> m.contains("last node in service of replica group 0") || m.contains("needs a majority"));
        System.out.printf("with node 0 returned stale and node 1 dead: %d keys read as acknowledged, %d refused,"
                + " e.g. %s%n", served, refusals.size(), refusals.get(0));
    }

    private static void checkEveryKey(DirectStore reader, Map<String, String> acknowledged, String when) {
        assertThat(acknowledged).isNotEmpty();
        acknowledged.forEach((k, v) -> assertThat(s(reader.get(b(k)))).as("%s: %s", when, k).isEqualTo(v));
        Map<String, String> scanned = new HashMap<>();
        try (KvCursor c = reader.scan(b("w"))) {
            c.forEachRemaining(e -> scanned.put(s(e.key()), s(e.value())));
        }
        assertThat(scanned).as("%s: the scan", when).isEqualTo(acknowledged);
    }

    // ---------------------------------------------------------------- a client killed holding locks

    private static final List<String> HOT_KEYS = List.of("hot/a", "hot/b", "hot/c");
    private static final Duration LEASE = Duration.ofSeconds(1);
    /** Beyond the lease: the waiter's backoff, the repair's round trips and this machine's load. */
    private static final Duration SLACK = Duration.ofSeconds(2);
    private static final int ROUNDS = 5;
    private static final int ACKS_PER_HOT_KEY_BEFORE_KILL = 10;
    private static final long SEED = 20261126L;

    /**
     * A pDPM-Direct client in a process of its own ({@link DirectHotKeyClient}: one thread per hot
     * key overwriting it, one creating keys) is killed with {@code kill -9} at a random moment, five
     * times, each time a new process. Two memory nodes, R = 2, lock lease 1 s. While it runs, a
     * reader in this JVM checks that every read of a hot key is one whole value, never older than
     * one it read before or than the client's last acknowledged put. After the kill, clients in this
     * JVM read and then write every hot key and create a key (which needs the index lock) — each
     * done within the lease plus {@link #SLACK} of the kill; the value read first is the client's
     * last acknowledged one, one of its later puts (failed or in flight, decided by the repair), or,
     * when it acknowledged none, this test's own write of the round before: whole, never torn, and
     * nothing acknowledged lost. Every key the client acknowledged creating holds its value and is
     * in the scan. At least one kill must have hit a held lock (an access after it waited for the lease).
     * Budget: about 25 s (two memory-node JVMs, five client JVMs, five leases).
     */
    @Test
    void aClientProcessKilledHoldingLocksDelaysOthersByOneLeaseAndLeavesWholeValues() throws Exception {
        List<NodeAddress> nodes = addresses(memnodes(2));
        Duration membershipLease = Duration.ofSeconds(1);
        Map<String, DirectStore> writers = new HashMap<>();
        for (String key : HOT_KEYS) {
            writers.put(key, client(nodes, LEASE, membershipLease));
        }
        DirectStore creator = client(nodes, LEASE, membershipLease);
        DirectStore checker = client(nodes, LEASE, membershipLease);
        Map<String, Long> testOrder = new HashMap<>();
        for (String key : HOT_KEYS) {
            writers.get(key).put(b(key), DirectHotKeyClient.value(key, 0));
            testOrder.put(key, 0L);
        }
        ExecutorService pool = Executors.newFixedThreadPool(HOT_KEYS.size() + 2);
        cluster.add(pool::shutdownNow);
        Random random = new Random(SEED);
        Map<String, Long> created = new HashMap<>();
        int roundsThatHitALock = 0;
        List<String> report = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            long base = round * DirectHotKeyClient.ROUND_SPAN;
            List<String> args = new ArrayList<>(List.of(nodes.stream().map(NodeAddress::toString)
                    .collect(Collectors.joining(",")), cluster.secretFile().toString(), Integer.toString(round)));
            args.addAll(HOT_KEYS);
            ChildProcess child = cluster.add(ChildProcess.startClient("direct client " + round,
                    dir.resolve("client-" + round + ".log"), DirectHotKeyClient.class, args));
            Printed printed = new Printed(child);
            Map<String, Long> floor = new HashMap<>();
            for (String key : HOT_KEYS) {
                floor.put(key, testOrder.get(key));
            }

            AtomicBoolean stopReading = new AtomicBoolean();
            cluster.add(() -> stopReading.set(true));
            Future<Long> reads = pool.submit(() -> readWhileRunning(checker, printed, floor, base, stopReading));
            await(() -> HOT_KEYS.stream().allMatch(k -> printed.lastAck(k) >= ACKS_PER_HOT_KEY_BEFORE_KILL)
                    || !child.isAlive(), "client " + round + "'s first puts");
            assertThat(child.isAlive()).as("client %d runs; its log:%n%s", round, child.log()).isTrue();
            Thread.sleep(random.nextInt(250));   // the kill's moment, not a wait for anything

            child.kill9();
            long killNanos = System.nanoTime();
            Map<String, Future<long[]>> after = new HashMap<>();
            for (String key : HOT_KEYS) {
                long order = base + DirectHotKeyClient.TEST_WRITE;
                after.put(key, pool.submit(() -> {
                    byte[] first = writers.get(key).get(b(key));
                    writers.get(key).put(b(key), DirectHotKeyClient.value(key, order));
                    return new long[] {DirectHotKeyClient.orderOf(key, first), System.nanoTime() - killNanos};
                }));
            }
            String createdAfter = "after/" + round;
            Future<Long> creation = pool.submit(() -> {
                creator.put(b(createdAfter), DirectHotKeyClient.value(createdAfter, base));
                return System.nanoTime() - killNanos;
            });

            long boundNanos = LEASE.plus(SLACK).toNanos();
            long slowestNanos = creation.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(slowestNanos).as("round %d: creating a key after the kill, ns", round)
                    .isLessThanOrEqualTo(boundNanos);
            printed.awaitEnd();
            for (String key : HOT_KEYS) {
                long[] r = after.get(key).get(AWAIT_SECONDS, TimeUnit.SECONDS);
                long lowest = printed.lastAck(key) > 0 ? base + printed.lastAck(key) : testOrder.get(key);
                long highest = base + printed.lastLine(key) + 1;
                assertThat(r[0]).as("round %d: %s first read after the kill: a whole value (-1: torn or foreign)", round,
                        key).isNotNegative();
                assertThat(r[0]).as("round %d: %s first read after the kill: the client's last acknowledged put or a later"
                        + " one (client seq %d..%d)", round, key, printed.lastAck(key), printed.lastLine(key) + 1)
                        .isBetween(lowest, highest);
                assertThat(r[1]).as("round %d: %s read and written after the kill, ns", round, key)
                        .isLessThanOrEqualTo(boundNanos);
                slowestNanos = Math.max(slowestNanos, r[1]);
                testOrder.put(key, base + DirectHotKeyClient.TEST_WRITE);
            }
            stopReading.set(true);
            long readsWhileRunning = reads.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            for (String key : HOT_KEYS) {
                assertThat(DirectHotKeyClient.orderOf(key, checker.get(b(key)))).as("round %d: %s after the test's write",
                        round, key).isEqualTo(testOrder.get(key));
            }
            created.putAll(printed.createdKeys(round));
            created.put(createdAfter, base);
            checkCreated(checker, created, printed.inFlightCreation(round), round);
            // Without a dead owner's lock an access takes milliseconds; with one, close to a lease (less
            // only by what the reader above had already watched of it before the kill).
            if (slowestNanos >= LEASE.toNanos() / 2) {
                roundsThatHitALock++;
            }
            report.add(String.format("round %d: %d acks, %d reads meanwhile, slowest access after the kill %d ms",
                    round, printed.acks(), readsWhileRunning, TimeUnit.NANOSECONDS.toMillis(slowestNanos)));
        }
        report.forEach(System.out::println);
        assertThat(roundsThatHitALock).as("kills that left a lock held (an access after the kill waited for the lease)")
                .isPositive();
    }

    /**
     * Reads the hot keys until told to stop: each value whole, and never older than the client's
     * last acknowledged put seen before the read started, nor than what this reader read before.
     */
    private static long readWhileRunning(DirectStore reader, Printed printed, Map<String, Long> floor, long base,
                                         AtomicBoolean stop) {
        Map<String, Long> seen = new HashMap<>(floor);
        long reads = 0;
        while (!stop.get()) {
            for (String key : HOT_KEYS) {
                long acked = printed.lastAck(key);
                long atLeast = Math.max(seen.get(key), acked > 0 ? base + acked : 0);
                long order = DirectHotKeyClient.orderOf(key, reader.get(b(key)));
                assertThat(order).as("%s read while the client ran: whole (-1: torn or foreign)", key).isNotNegative();
                assertThat(order).as("%s read while the client ran: not older than %d", key, atLeast)
                        .isGreaterThanOrEqualTo(atLeast);
                seen.put(key, order);
                reads++;
            }
        }
        return reads;
    }

    /**
     * Every key a client acknowledged creating holds its value, by key and in the scan; the one in
     * flight at the kill is whole or absent.
     */
    private static void checkCreated(DirectStore reader, Map<String, Long> created, String inFlight, int round) {
        for (Map.Entry<String, Long> e : created.entrySet()) {
            assertThat(DirectHotKeyClient.orderOf(e.getKey(), reader.get(b(e.getKey())))).as("round %d: created key %s",
                    round, e.getKey()).isEqualTo(e.getValue());
        }
        byte[] maybe = reader.get(b(inFlight));
        if (maybe != null) {
            assertThat(DirectHotKeyClient.orderOf(inFlight, maybe)).as("round %d: %s, in flight at the kill", round,
                    inFlight).isNotNegative();
        }
        Map<String, Long> scanned = new HashMap<>();
        for (String prefix : List.of(DirectHotKeyClient.CREATED_PREFIX, "after/")) {
            try (KvCursor c = reader.scan(b(prefix))) {
                c.forEachRemaining(e -> scanned.put(s(e.key()), DirectHotKeyClient.orderOf(s(e.key()), e.value())));
            }
        }
        assertThat(scanned).as("round %d: the scan of created keys", round).containsAllEntriesOf(created);
        assertThat(scanned.values()).as("round %d: scanned values whole", round).allMatch(o -> o >= 0);
    }

    /** What a {@link DirectHotKeyClient} printed, as this JVM read it: per key, the last acknowledged and last printed seq. */
    private static final class Printed {
        private final Map<String, Long> lastAck = new ConcurrentHashMap<>();
        private final Map<String, Long> lastLine = new ConcurrentHashMap<>();
        private final AtomicLong acks = new AtomicLong();
        private final ChildProcess child;
        private final Thread reader;

        Printed(ChildProcess child) {
            this.child = child;
            this.reader = new Thread(this::readAll, "stdout of " + child);
            reader.setDaemon(true);
            reader.start();
        }

        private void readAll() {
            try {
                for (String line; (line = child.stdout().readLine()) != null; ) {
                    String[] f = line.split(" ");
                    long seq = Long.parseLong(f[2]);
                    if (f[0].equals("ack")) {
                        lastAck.put(f[1], seq);
                        acks.incrementAndGet();
                    }
                    lastLine.put(f[1], seq);
                }
            } catch (IOException e) {
                // the process is gone: what was read is what it printed
            }
        }

        long lastAck(String key) {
            return lastAck.getOrDefault(key, 0L);
        }

        long lastLine(String key) {
            return lastLine.getOrDefault(key, 0L);
        }

        long acks() {
            return acks.get();
        }

        /** Waits for the end of the output of the killed process. */
        void awaitEnd() throws InterruptedException {
            reader.join(TimeUnit.SECONDS.toMillis(AWAIT_SECONDS));
            assertThat(reader.isAlive()).as("the killed client's stdout ended").isFalse();
        }

        /** Keys of this round whose creation was acknowledged, with their values' orders. */
        Map<String, Long> createdKeys(int round) {
            String prefix = DirectHotKeyClient.CREATED_PREFIX + round + "/";
            Map<String, Long> keys = new HashMap<>();
            for (long n = 1; lastLine.containsKey(prefix + n); n++) {
                if (lastAck.containsKey(prefix + n)) {
                    keys.put(prefix + n, round * DirectHotKeyClient.ROUND_SPAN + n);
                }
            }
            return keys;
        }

        /** The creation that may have been in flight when the process died. */
        String inFlightCreation(int round) {
            String prefix = DirectHotKeyClient.CREATED_PREFIX + round + "/";
            long n = 1;
            while (lastLine.containsKey(prefix + n)) {
                n++;
            }
            return prefix + n;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + AWAIT_SECONDS + " s for " + what);
            }
            Thread.sleep(2);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
