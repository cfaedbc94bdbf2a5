package org.pdpm.core.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.sim.PowerLoss;
import org.pdpm.rdma.sim.SimClient;
import org.pdpm.rdma.sim.SimFabric;
import org.pdpm.rdma.sim.SimulatedCrashException;

/**
 * Crash points of the coordinator, enumerated: for every k, the coordinator stops after its k-th
 * verb of a PUT (of an existing or a new key) or a DELETE — alone, or racing a second PUT of the
 * same key from another client — the memory nodes optionally lose power (dropping or tearing what
 * was not flushed), and a new coordinator recovers from the memory nodes alone. Every key must then
 * hold its old or a new value, never a mix, and every acknowledged write must be there (and a write
 * whose redo record was flushed on one replica is completed by recovery); the
 * bystander key is untouched, a scan agrees with GETs, and the store takes writes again.
 * Budget: about 5-15 s on 2 shared cores (R = 1..3, 396 recoveries).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CentralCrashPointTest {

    private static final byte[] K = b("key");
    private static final byte[] L = b("bystander");
    private static final byte[] FRESH = b("a key written for the first time");
    private static final byte[] OLD = b("old value of key");
    private static final byte[] NEW = b("the new value of key, longer than the old one");
    private static final byte[] RACER = b("the racer's value");
    private static final byte[] OTHER = b("bystander's value");

    enum Loss { NONE, DROP, TEAR }

    enum Op { OVERWRITE, CREATE, DELETE }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int r = 1; r <= 3; r++) {
            for (Loss loss : Loss.values()) {
                for (Op op : Op.values()) {
                    out.add(Arguments.of(r, loss, op));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "R={0} power loss {1} {2}")
    @MethodSource("cases")
    void everyCrashPointOfAWriteLeavesTheOldOrTheNewValue(int replication, Loss loss, Op op) {
        byte[] key = op == Op.CREATE ? FRESH : K;
        byte[] before = op == Op.CREATE ? null : OLD;
        byte[] after = op == Op.DELETE ? null : NEW;
        long verbs;
        try (World counted = new World(replication, 1)) {
            long start = counted.coordinatorClient.verbsPosted();
            counted.write(op, key);
            verbs = counted.coordinatorClient.verbsPosted() - start;
        }
        assertThat(verbs).as("verbs of the coordinator's %s: WRITE+FLUSH of the log, then of the slot, on R nodes", op)
                .isEqualTo(4L * replication);
        for (long k = 0; k <= verbs; k++) {
            try (World w = new World(replication, 1000 + k)) {
                w.coordinatorClient.crashAfterVerbs(w.coordinatorClient.verbsPosted() + k);
                boolean acknowledged = attempt(() -> w.write(op, key));
                String where = "R=" + replication + " loss=" + loss + " op=" + op + " k=" + k;
                assertThat(acknowledged).as(where).isEqualTo(k == verbs);
                w.recover(loss);
                byte[] now = w.reader.get(key);
                if (acknowledged || k >= 2) {
                    // From the first replica's flushed log record on, recovery completes the write.
                    assertThat(now).as(where).isEqualTo(after);
                } else if (k == 0) {
                    assertThat(now).as(where).isEqualTo(before);
                } else {
                    assertThat(now).as(where).isIn(before, after);
                }
                w.assertIntact(where, key, now);
            }
        }
    }

    static List<Arguments> racingCases() {
        List<Arguments> out = new ArrayList<>();
        for (int r = 1; r <= 3; r++) {
            for (Loss loss : Loss.values()) {
                out.add(Arguments.of(r, loss));
            }
        }
        return out;
    }

    /**
     * Two clients PUT the same key at once; the coordinator serializes them on the key's lock and
     * stops after its k-th verb of the two. An acknowledged PUT's value (the later one's, when both
     * were) or an unacknowledged one's is found, never the old value once a PUT was acknowledged.
     */
    @ParameterizedTest(name = "R={0} power loss {1}")
    @MethodSource("racingCases")
    void everyCrashPointOfTwoRacingPutsLeavesAnAllowedValue(int replication, Loss loss) throws Exception {
        long verbs = 8L * replication;
        for (long k = 0; k <= verbs; k++) {
            try (World w = new World(replication, 5000 + k)) {
                w.coordinatorClient.crashAfterVerbs(w.coordinatorClient.verbsPosted() + k);
                CyclicBarrier start = new CyclicBarrier(2);
                boolean[] acked = new boolean[2];
                CentralStore[] clients = {w.writer, w.racer};
                byte[][] values = {NEW, RACER};
                Thread[] threads = new Thread[2];
                Throwable[] unexpected = new Throwable[2];
                for (int t = 0; t < 2; t++) {
                    int me = t;
                    threads[t] = new Thread(() -> {
                        try {
                            start.await();
                            acked[me] = attempt(() -> clients[me].put(K, values[me]));
                        } catch (Throwable e) {
                            unexpected[me] = e;
                        }
                    });
                    threads[t].start();
                }
                for (Thread t : threads) {
                    t.join(30_000);
                }
                String where = "R=" + replication + " loss=" + loss + " k=" + k;
                assertThat(unexpected).as(where).containsOnlyNulls();
                assertThat(acked[0] && acked[1]).as(where).isEqualTo(k == verbs);
                w.recover(loss);
                byte[] now = w.reader.get(K);
                if (acked[0] || acked[1]) {
                    // The two PUTs overlap (they start at one barrier), so either may be linearized last:
                    // the order their threads return in says nothing about the coordinator's order.
                    assertThat(now).as(where).isIn(NEW, RACER);
                } else {
                    assertThat(now).as(where).isIn(OLD, NEW, RACER);
                }
                w.assertIntact(where, K, now);
            }
        }
    }

    /** Runs {@code op}; false when it failed because the coordinator stopped at the simulated crash. */
    private static boolean attempt(Runnable op) {
        try {
            op.run();
            return true;
        } catch (RuntimeException e) {
            if (!SimulatedCrashException.isCrash(e)) {
                throw e;
            }
            return false;
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static final List<World> WORLDS = new ArrayList<>();

    @AfterEach
    void closeWorlds() {
        WORLDS.forEach(World::close);
        WORLDS.clear();
    }

    /** One replica group of simulated nodes, a coordinator on its own simulated client, two clients. */
    private static final class World implements AutoCloseable {
        final SimFabric sim;
        final List<NodeAddress> nodes = new ArrayList<>();
        final Coordinator.Options options;
        final SimClient coordinatorClient;
        final Coordinator coordinator;
        final CentralStore writer;
        final CentralStore racer;
        Coordinator recovered;
        CentralStore reader;

        World(int replication, long seed) {
            sim = SimFabric.builder().seed(seed).build();
            for (int i = 0; i < replication; i++) {
                nodes.add(sim.addNode(1 << 20));
            }
            WORLDS.add(this);
            options = new Coordinator.Options(replication, 256, 64, 4);
            coordinatorClient = sim.client("coordinator");
            coordinator = Coordinator.open(coordinatorClient.asFabric(), nodes, options);
            writer = CentralStore.builder().coordinator(coordinator).open();
            racer = CentralStore.builder().coordinator(coordinator).open();
            writer.put(K, OLD);
            writer.put(L, OTHER);
        }

        void write(Op op, byte[] key) {
            switch (op) {
                case OVERWRITE, CREATE -> writer.put(key, NEW);
                case DELETE -> writer.delete(key);
            }
        }

        /** The crashed coordinator is gone; power loss (or none), node restarts, a new coordinator and a reader. */
        void recover(Loss loss) {
            coordinator.close();
            if (loss != Loss.NONE) {
                for (NodeAddress n : nodes) {
                    sim.powerLoss(n, loss == Loss.DROP ? PowerLoss.DROP : PowerLoss.TEAR);
                    sim.restartNode(n);
                }
            }
            recovered = Coordinator.open(sim.client("recovered").asFabric(), nodes, options);
            reader = CentralStore.builder().coordinator(recovered).open();
        }

        /** The bystander is untouched, no node was taken out, a scan agrees with GETs, and writes go on. */
        void assertIntact(String where, byte[] key, byte[] valueOfKey) {
            assertThat(recovered.membership().outNodes()).as(where).isEmpty();
            assertThat(reader.get(L)).as(where).isEqualTo(OTHER);
            Map<String, byte[]> scanned = new HashMap<>();
            try (KvCursor c = reader.scan(new byte[0])) {
                while (c.hasNext()) {
                    KvEntry e = c.next();
                    scanned.put(new String(e.key(), StandardCharsets.UTF_8), e.value());
                }
            }
            assertThat(scanned.get(new String(key, StandardCharsets.UTF_8))).as(where).isEqualTo(valueOfKey);
            assertThat(scanned.get("bystander")).as(where).isEqualTo(OTHER);
            int otherKeys = Arrays.equals(key, K) ? 1 : 2;   // the bystander, and K when it is not the key written
            assertThat(scanned).as(where).hasSize(otherKeys + (valueOfKey == null ? 0 : 1));
            byte[] later = b("written after recovery");
            reader.put(key, later);
            assertThat(reader.get(key)).as(where).isEqualTo(later);
            reader.put(b("new after recovery"), later);
            assertThat(reader.get(b("new after recovery"))).as(where).isEqualTo(later);
            assertThat(reader.get(L)).as(where).isEqualTo(OTHER);
        }

        @Override
        public void close() {
            for (AutoCloseable c : new AutoCloseable[] {reader, racer, writer, recovered, coordinator}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    // a crashed coordinator may fail to close cleanly; the fabric goes next anyway
                }
            }
            sim.close();
        }
    }
}
