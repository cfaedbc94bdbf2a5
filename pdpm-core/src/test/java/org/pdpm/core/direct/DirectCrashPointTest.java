package org.pdpm.core.direct;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvLimits;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.sim.PowerLoss;
import org.pdpm.rdma.sim.SimClient;
import org.pdpm.rdma.sim.SimFabric;
import org.pdpm.rdma.sim.SimulatedCrashException;

/**
 * Crash points, enumerated: for every k, a writer stops after its k-th verb of a put (of an
 * existing key, of a new key, or of a delete), alone or with another client then writing the same
 * key, the memory nodes optionally lose power (dropping or tearing what was not flushed) and
 * restart, and a fresh client must find every key holding exactly its old or its new value — the
 * new one when the operation was acknowledged — with the scan agreeing and the pool still taking
 * writes. Locks the dead writer left are taken over after the lease and repaired. The clients'
 * clock advances 10 ms at every reading, so leases expire after a few dozen polls whatever the
 * machine's load. Budget: about 15 s.
 */
class DirectCrashPointTest {

    private static final byte[] K = b("key");
    private static final byte[] L = b("bystander");
    private static final byte[] FRESH = b("a key never written before");
    private static final byte[] OLD = b("old value of key");
    private static final byte[] NEW = b("the new value of key, longer than the old one");
    private static final byte[] RACER = b("the racer's value");
    private static final byte[] OTHER = b("bystander's value");

    enum Loss { NONE, DROP, TEAR }

    enum Kind { OVERWRITE, CREATE, DELETE }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int r = 1; r <= 2; r++) {
                for (Loss loss : Loss.values()) {
                    for (boolean racing : new boolean[] {false, true}) {
                        out.add(Arguments.of(kind, r, loss, racing));
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} R={1} power loss {2} racing {3}")
    @MethodSource("cases")
    void everyCrashPointLeavesTheOldOrTheNewValue(Kind kind, int replication, Loss loss, boolean racing) {
        byte[] key = kind == Kind.CREATE ? FRESH : K;
        byte[] before = kind == Kind.CREATE ? null : OLD;
        byte[] after = kind == Kind.DELETE ? null : NEW;
        Consumer<DirectStore> operation = s -> {
            if (kind == Kind.DELETE) {
                s.delete(key);
            } else {
                s.put(key, NEW);
            }
        };
        World counted = new World(replication, 1);
        long before0 = counted.writerClient.verbsPosted();
        operation.accept(counted.writer);
        long verbs = counted.writerClient.verbsPosted() - before0;
        if (kind == Kind.OVERWRITE) {
            assertThat(verbs).as("verbs of an overwrite").isEqualTo(8L * replication + 1);
        }
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 1000 + k);
            w.writerClient.crashAfterVerbs(w.writerClient.verbsPosted() + k);
            boolean acknowledged = attempt(() -> operation.accept(w.writer));
            String where = kind + " R=" + replication + " loss=" + loss + " racing=" + racing + " k=" + k + "/" + verbs;
            assertThat(acknowledged).as(where).isEqualTo(k == verbs);
            if (racing) {
                w.racer.put(key, RACER);
            }
            w.recover(loss);
            byte[] now = w.reader.get(key);
            if (racing) {
                assertThat(now).as(where).isEqualTo(RACER);
            } else if (acknowledged) {
                assertThat(now).as(where).isEqualTo(after);
            } else {
                assertThat(now).as(where).isIn(before, after);
            }
            assertThat(w.secondReader().get(key)).as(where + ": a second reader agrees").isEqualTo(now);
            w.assertIntact(where, key, now);
        }
    }

    /**
     * A writer killed right after taking a slot's lock: a reader waits about one lease (real time
     * here), takes the lock over, finds nothing to repair but the lock, and reads the old value;
     * a writer then writes without waiting again. Budget: about 2 s.
     */
    @Test
    void aClientKilledHoldingALockDelaysOthersByAboutTheLease() {
        Duration lease = Duration.ofSeconds(1);
        SimFabric sim = SimFabric.builder().seed(7).build();
        try {
            NodeAddress n0 = sim.addNode(1 << 20);
            NodeAddress n1 = sim.addNode(1 << 20);
            List<NodeAddress> nodes = List.of(n0, n1);
            SimClient writerClient = sim.client("writer");
            DirectStore.Builder builder = DirectStore.builder().memoryNodes(nodes).replication(2)
                    .limits(new KvLimits(64, 256)).slotsPerGroup(64).lease(lease).membershipLease(Duration.ofHours(1));
            DirectStore writer = builder.fabric(writerClient.asFabric()).open();
            writer.put(K, OLD);
            // The lock round trip of an overwrite: CAS + flush on both replicas and a READ of the primary's record.
            writerClient.crashAfterVerbs(writerClient.verbsPosted() + 5);
            assertThat(attempt(() -> writer.put(K, NEW))).isFalse();

            DirectStore reader = builder.fabric(sim.client("reader").asFabric()).open();
            long start = System.nanoTime();
            assertThat(reader.get(K)).isEqualTo(OLD);
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waitedMillis).as("the reader waited for the lease").isBetween(lease.toMillis(), lease.toMillis() + 3_000);

            start = System.nanoTime();
            reader.put(K, b("after the takeover"));
            assertThat(reader.get(K)).isEqualTo(b("after the takeover"));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("the lock is free again")
                    .isLessThan(lease.toMillis());
            reader.close();
            writer.close();
        } finally {
            sim.close();
        }
    }

    /** Runs {@code op}; false when it stopped at the simulated crash. */
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

    /** One replica group of simulated nodes; a writer and a racer that have each written before. */
    private static final class World implements AutoCloseable {
        final SimFabric sim;
        final List<NodeAddress> nodes = new ArrayList<>();
        final AtomicLong clock = new AtomicLong();
        final SimClient writerClient;
        final DirectStore writer;
        final DirectStore racer;
        final List<DirectStore> stores = new ArrayList<>();
        DirectStore reader;
        int readers;

        World(int replication, long seed) {
            sim = SimFabric.builder().seed(seed).build();
            WORLDS.add(this);
            for (int i = 0; i < replication; i++) {
                nodes.add(sim.addNode(1 << 20));
            }
            writerClient = sim.client("writer");
            writer = store(writerClient);
            racer = store(sim.client("racer"));
            writer.put(K, OLD);
            writer.put(L, OTHER);
            assertThat(racer.get(K)).isEqualTo(OLD);
        }

        DirectStore store(SimClient client) {
            DirectStore s = DirectStore.builder().fabric(client.asFabric()).memoryNodes(nodes)
                    .replication(nodes.size()).limits(new KvLimits(64, 256)).slotsPerGroup(64)
                    .lease(Duration.ofMillis(300)).membershipLease(Duration.ofDays(1))
                    .clock(() -> clock.addAndGet(10_000_000)).open();
            stores.add(s);
            return s;
        }

        void recover(Loss loss) {
            if (loss != Loss.NONE) {
                for (NodeAddress n : nodes) {
                    sim.powerLoss(n, loss == Loss.DROP ? PowerLoss.DROP : PowerLoss.TEAR);
                    sim.restartNode(n);
                }
            }
            reader = secondReader();
        }

        DirectStore secondReader() {
            return store(sim.client("reader-" + readers++));
        }

        /** The bystander is untouched, a scan agrees with GETs, and the pool still takes writes. */
        void assertIntact(String where, byte[] key, byte[] valueOfKey) {
            assertThat(reader.get(L)).as(where).isEqualTo(OTHER);
            Map<String, byte[]> scanned = new HashMap<>();
            try (KvCursor c = reader.scan(new byte[0])) {
                while (c.hasNext()) {
                    KvEntry e = c.next();
                    scanned.put(new String(e.key(), StandardCharsets.UTF_8), e.value());
                }
            }
            assertThat(scanned.get(new String(key, StandardCharsets.UTF_8))).as(where + " scan").isEqualTo(valueOfKey);
            assertThat(scanned.get("bystander")).as(where + " scan").isEqualTo(OTHER);
            byte[] later = b("written after recovery");
            reader.put(key, later);
            assertThat(reader.get(key)).as(where).isEqualTo(later);
            reader.put(b("new after recovery"), later);
            reader.delete(L);
            assertThat(reader.get(L)).as(where).isNull();
            assertThat(secondReader().get(b("new after recovery"))).as(where).isEqualTo(later);
        }

        @Override
        public void close() {
            for (DirectStore s : stores) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    // a crashed client fails to close cleanly; the fabric goes next anyway
                }
            }
            sim.close();
        }
    }
}
