package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
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
 * Crash points, enumerated: for every k, a writer (or the metadata server) stops after its k-th
 * verb of an operation, the memory nodes optionally lose power (dropping or tearing what was not
 * flushed), everything restarts, and every key must hold exactly its old or its new value — the
 * new one whenever the operation had been acknowledged. Budget: a few seconds.
 */
class CloverCrashPointTest {

    private static final byte[] K = b("key");
    private static final byte[] L = b("bystander");
    private static final byte[] OLD = b("old value of key");
    private static final byte[] NEW = b("the new value of key, longer than the old one");
    private static final byte[] RACER = b("the racer's value");
    private static final byte[] OTHER = b("bystander's value");

    enum Loss { NONE, DROP, TEAR }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int r = 1; r <= 2; r++) {
            for (Loss loss : Loss.values()) {
                for (boolean racing : new boolean[] {false, true}) {
                    out.add(Arguments.of(r, loss, racing));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "R={0} power loss {1} racing {2}")
    @MethodSource("cases")
    void everyCrashPointOfAPutLeavesTheOldOrTheNewValue(int replication, Loss loss, boolean racing) {
        long verbs = countVerbs(replication, w -> w.writer.put(K, NEW), World::writerClient);
        assertThat(verbs).as("verbs of an overwrite").isEqualTo(replication == 1 ? 4 : 8);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 1000 + k);
            w.writerClient.crashAfterVerbs(w.writerClient.verbsPosted() + k);
            boolean acknowledged = attempt(() -> w.writer.put(K, NEW));
            assertThat(acknowledged).as("k=%d", k).isEqualTo(k == verbs);
            if (racing) {
                w.racer.put(K, RACER);
            }
            w.recover(loss);
            byte[] now = w.reader.get(K);
            String where = "R=" + replication + " loss=" + loss + " racing=" + racing + " k=" + k;
            if (racing) {
                assertThat(now).as(where).isEqualTo(RACER);
            } else if (acknowledged) {
                assertThat(now).as(where).isEqualTo(NEW);
            } else {
                assertThat(now).as(where).isIn(OLD, NEW);
            }
            w.assertIntact(where, now);
        }
    }

    /** A batch of overwrites of two keys (putAll's shared round trips): each key alone is old or new. */
    @ParameterizedTest(name = "R={0} power loss {1} racing {2}")
    @MethodSource("cases")
    void everyCrashPointOfABatchedOverwriteLeavesEachKeyOldOrNew(int replication, Loss loss, boolean racing) {
        byte[] newL = b("the bystander's new value");
        List<KvEntry> batch = List.of(new KvEntry(K, NEW), new KvEntry(L, newL));
        long verbs = countVerbs(replication, w -> w.writer.putAll(batch), World::writerClient);
        assertThat(verbs).as("verbs of a batch of two overwrites").isEqualTo(replication == 1 ? 8 : 16);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 3000 + k);
            w.writerClient.crashAfterVerbs(w.writerClient.verbsPosted() + k);
            boolean acknowledged = attempt(() -> w.writer.putAll(batch));
            assertThat(acknowledged).as("k=%d", k).isEqualTo(k == verbs);
            if (racing) {
                w.racer.put(K, RACER);
            }
            w.recover(loss);
            String where = "R=" + replication + " loss=" + loss + " racing=" + racing + " k=" + k;
            byte[] nowK = w.reader.get(K);
            byte[] nowL = w.reader.get(L);
            if (racing) {
                assertThat(nowK).as(where).isEqualTo(RACER);
            } else if (acknowledged) {
                assertThat(nowK).as(where).isEqualTo(NEW);
            } else {
                assertThat(nowK).as(where).isIn(OLD, NEW);
            }
            if (acknowledged) {
                assertThat(nowL).as(where).isEqualTo(newL);
            } else {
                assertThat(nowL).as(where).isIn(OTHER, newL);
            }
            byte[] after = b("written after recovery");
            w.reader.putAll(List.of(new KvEntry(K, after), new KvEntry(L, after)));
            assertThat(w.reader.get(K)).as(where).isEqualTo(after);
            assertThat(w.reader.get(L)).as(where).isEqualTo(after);
        }
    }

    @ParameterizedTest(name = "R={0} power loss {1}")
    @MethodSource("metadataCases")
    void everyCrashPointOfTheMetadataServersCreateLeavesTheKeyAbsentOrWhole(int replication, Loss loss) {
        byte[] fresh = b("a key the server has never seen");
        long verbs = countVerbs(replication, w -> w.writer.put(fresh, NEW), World::metadataClient);
        assertThat(verbs).as("verbs of a create").isEqualTo(2L * replication);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 2000 + k);
            w.metadataClient.crashAfterVerbs(w.metadataClient.verbsPosted() + k);
            boolean acknowledged = attempt(() -> w.writer.put(fresh, NEW));
            assertThat(acknowledged).as("k=%d", k).isEqualTo(k == verbs);
            w.recover(loss);
            String where = "R=" + replication + " loss=" + loss + " k=" + k;
            byte[] now = w.reader.get(fresh);
            if (acknowledged) {
                assertThat(now).as(where).isEqualTo(NEW);
            } else {
                assertThat(now).as(where).isIn(null, NEW);
            }
            assertThat(w.reader.get(K)).as(where).isEqualTo(OLD);
            w.assertIntact(where, w.reader.get(K));
        }
    }

    /**
     * A batch of two new keys (putAll's shared creation), the writer or the server stopped after
     * each of its verbs: each key is absent or whole, both when acknowledged. At R = 2 the log's
     * second replica then serves alone, so a crash that left it short of the first must have been
     * repaired at recovery.
     */
    @ParameterizedTest(name = "R={0} power loss {1} server {2}")
    @MethodSource("batchedCreateCases")
    void everyCrashPointOfABatchedCreateLeavesEachKeyAbsentOrWhole(int replication, Loss loss, boolean server) {
        byte[] one = b("first new key of a batch");
        byte[] two = b("second new key of a batch");
        byte[] valueTwo = b("the second key's value");
        List<KvEntry> batch = List.of(new KvEntry(one, NEW), new KvEntry(two, valueTwo));
        java.util.function.Function<World, SimClient> crashing = server ? World::metadataClient : World::writerClient;
        long verbs = countVerbs(replication, w -> w.writer.putAll(batch), crashing);
        // writer: two versions written (and flushed) to each replica in one round trip; server: one log append per replica
        assertThat(verbs).as("verbs of a batched create").isEqualTo(server ? 2L * replication : 4L * replication);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, (server ? 7000 : 6000) + k);
            SimClient c = crashing.apply(w);
            c.crashAfterVerbs(c.verbsPosted() + k);
            boolean acknowledged = attempt(() -> w.writer.putAll(batch));
            assertThat(acknowledged).as("k=%d", k).isEqualTo(k == verbs);
            w.recover(loss);
            if (replication > 1) {
                w.serveFromSecondReplicaAlone();
            }
            String where = "R=" + replication + " loss=" + loss + " server=" + server + " k=" + k;
            byte[] nowOne = w.reader.get(one);
            byte[] nowTwo = w.reader.get(two);
            if (acknowledged) {
                assertThat(nowOne).as(where).isEqualTo(NEW);
                assertThat(nowTwo).as(where).isEqualTo(valueTwo);
            } else {
                assertThat(nowOne).as(where).isIn(null, NEW);
                assertThat(nowTwo).as(where).isIn(null, valueTwo);
            }
            byte[] after = b("written after recovery");
            w.reader.putAll(List.of(new KvEntry(one, after), new KvEntry(two, after), new KvEntry(b("third"), after)));
            for (byte[] key : List.of(one, two, b("third"))) {
                assertThat(w.reader.get(key)).as(where).isEqualTo(after);
            }
            assertThat(w.reader.get(K)).as(where).isEqualTo(OLD);
        }
    }

    static List<Arguments> batchedCreateCases() {
        List<Arguments> out = new ArrayList<>();
        for (Arguments a : metadataCases()) {
            out.add(Arguments.of(a.get()[0], a.get()[1], false));
            out.add(Arguments.of(a.get()[0], a.get()[1], true));
        }
        return out;
    }

    /**
     * The server's collection after an overwrite: without a pin it moves the key's head and
     * unlinks the old version; with one it links the pinned version past the superseded one.
     */
    @ParameterizedTest(name = "R={0} power loss {1} pinned {2}")
    @MethodSource("collectionCases")
    void everyCrashPointOfACollectionKeepsTheHeadAndThePinnedEpochReadable(int replication, Loss loss, boolean pinned) {
        byte[] middle = b("superseded between the pin and now");
        Consumer<World> overwrite = w -> {
            w.writer.put(K, NEW);
            w.writer.drainNotices();
        };
        Consumer<World> prepare = w -> {
            if (pinned) {
                w.writer.pin(0, "checkpoint");
                w.writer.advanceEpoch(1);
                w.writer.put(K, middle);
            }
            w.writer.drainNotices();
        };
        World counted = new World(replication, 1);
        prepare.accept(counted);
        long verbs = countVerbs(counted, overwrite, World::metadataClient);
        // With R > 1 each link walked is read again on every replica, to collect only what all of them hold.
        long linksChecked = replication == 1 ? 0 : (pinned ? 2 : 1) * (long) replication;
        assertThat(verbs).as("verbs of a collection: headers read, links checked, then link or head, then unlink, each"
                + " flushed").isEqualTo((pinned ? 3 : 2) + linksChecked + 4L * replication);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 3000 + k);
            prepare.accept(w);
            w.metadataClient.crashAfterVerbs(w.metadataClient.verbsPosted() + k);
            w.writer.put(K, NEW);   // acknowledged: the collection runs behind it, on a notice
            w.writer.drainNotices();
            w.recover(loss);
            String where = "R=" + replication + " loss=" + loss + " pinned=" + pinned + " k=" + k;
            assertThat(w.reader.get(K)).as(where).isEqualTo(NEW);
            if (pinned) {
                assertThat(w.reader.asOf(MetadataService.ROOT_LINEAGE, 0).get(K)).as(where).isEqualTo(OLD);
            }
            w.assertIntact(where, NEW);
        }
    }

    static List<Arguments> collectionCases() {
        List<Arguments> out = new ArrayList<>();
        for (int r = 1; r <= 2; r++) {
            for (Loss loss : Loss.values()) {
                for (boolean pinned : new boolean[] {false, true}) {
                    out.add(Arguments.of(r, loss, pinned));
                }
            }
        }
        return out;
    }

    /** A delete's collection seals the key's only version, a tombstone, then logs its removal. */
    @ParameterizedTest(name = "R={0} power loss {1}")
    @MethodSource("metadataCases")
    void everyCrashPointOfAKeyRemovalLeavesTheKeyAbsentAndWritable(int replication, Loss loss) {
        Consumer<World> delete = w -> {
            w.writer.delete(K);
            w.writer.drainNotices();
        };
        long verbs = countVerbs(replication, delete, World::metadataClient);
        assertThat(verbs).as("verbs of a delete's collection and removal").isGreaterThan(0);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 4000 + k);
            w.metadataClient.crashAfterVerbs(w.metadataClient.verbsPosted() + k);
            w.writer.delete(K);   // acknowledged: the removal runs behind it, on a notice
            w.writer.drainNotices();
            w.recover(loss);
            String where = "R=" + replication + " loss=" + loss + " k=" + k;
            assertThat(w.reader.get(K)).as(where).isNull();
            w.assertIntact(where, null);
        }
    }

    /** Key creations fill the log's live half; the next one compacts it into the other half. */
    @ParameterizedTest(name = "R={0} power loss {1}")
    @MethodSource("metadataCases")
    void everyCrashPointOfALogCompactionKeepsEveryKey(int replication, Loss loss) {
        byte[] trigger = b("the key whose creation compacts the log, ".repeat(9));   // a record longer than the room left
        World counted = new World(replication, 1, SMALL_LOG);
        counted.fillLog();
        long verbs = countVerbs(counted, w -> w.writer.put(trigger, NEW), World::metadataClient);
        assertThat(verbs).as("verbs of a create that compacts the log").isGreaterThan(4L * replication);
        for (long k = 0; k <= verbs; k++) {
            World w = new World(replication, 5000 + k, SMALL_LOG);
            int filled = w.fillLog();
            long generation = w.metadata.logGeneration();
            w.metadataClient.crashAfterVerbs(w.metadataClient.verbsPosted() + k);
            boolean acknowledged = attempt(() -> w.writer.put(trigger, NEW));
            assertThat(acknowledged).as("k=%d", k).isEqualTo(k == verbs);
            w.recover(loss);
            String where = "R=" + replication + " loss=" + loss + " k=" + k;
            for (int i = 0; i < filled; i++) {
                assertThat(w.reader.get(b("fill-" + i))).as(where + " fill-" + i)
                        .isEqualTo(i % 10 == 0 ? b("filler " + i) : null);
            }
            byte[] now = w.reader.get(trigger);
            if (acknowledged) {
                assertThat(now).as(where).isEqualTo(NEW);
                assertThat(w.recovered.logGeneration()).as(where).isGreaterThan(generation);
            } else {
                assertThat(now).as(where).isIn(null, NEW);
            }
            w.assertIntact(where, OLD);
        }
    }

    static List<Arguments> metadataCases() {
        List<Arguments> out = new ArrayList<>();
        for (int r = 1; r <= 2; r++) {
            for (Loss loss : Loss.values()) {
                out.add(Arguments.of(r, loss));
            }
        }
        return out;
    }

    private static long countVerbs(int replication, Consumer<World> op, java.util.function.Function<World, SimClient> who) {
        return countVerbs(new World(replication, 1), op, who);
    }

    private static long countVerbs(World w, Consumer<World> op, java.util.function.Function<World, SimClient> who) {
        SimClient c = who.apply(w);
        long before = c.verbsPosted();
        op.accept(w);
        return c.verbsPosted() - before;
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

    /** A log area of 8 KiB: halves of 4 KiB that a few dozen key creations fill. */
    private static final long SMALL_LOG = 8 << 10;

    /** Worlds built by the running test; each holds simulated nodes, so they are closed after it. */
    private static final List<World> WORLDS = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeWorlds() {
        WORLDS.forEach(World::close);
        WORLDS.clear();
    }

    /** A pool with a metadata server, a writer and a racer that have each written before. */
    private static final class World implements AutoCloseable {
        final SimFabric sim;
        final List<NodeAddress> nodes = new ArrayList<>();
        final MetadataServer.Options options;
        final SimClient metadataClient;
        final SimClient writerClient;
        final MetadataServer metadata;
        final CloverStore writer;
        final CloverStore racer;
        CloverStore reader;
        MetadataServer recovered;

        World(int replication, long seed) {
            this(replication, seed, 256 << 10);
        }

        World(int replication, long seed, long logBytes) {
            sim = SimFabric.builder().seed(seed).build();
            for (int i = 0; i < replication; i++) {
                nodes.add(sim.addNode(2 << 20));
            }
            WORLDS.add(this);
            options = new MetadataServer.Options(replication, logBytes, 1 << 10, 64 << 10, 50);
            metadataClient = sim.client("metadata");
            metadata = MetadataServer.open(metadataClient.asFabric(), nodes, options);
            writerClient = sim.client("writer");
            writer = store(writerClient, metadata);
            racer = store(sim.client("racer"), metadata);
            writer.put(K, OLD);
            writer.put(L, OTHER);
            racer.put(b("racer's own"), b("grants the racer a block"));
            assertThat(racer.get(K)).isEqualTo(OLD);
        }

        SimClient writerClient() {
            return writerClient;
        }

        @Override
        public void close() {
            for (AutoCloseable c : new AutoCloseable[] {reader, racer, writer, recovered, metadata}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    // a crashed client or server fails to close cleanly; the fabric goes next anyway
                }
            }
            sim.close();
        }

        /**
         * Creates keys, and deletes all but every tenth (their creations and removals are what a
         * compaction drops), until the next creation no longer fits the log's live half; returns how
         * many were created.
         */
        int fillLog() {
            int i = 0;
            long generation = metadata.logGeneration();
            // An iteration appends a creation, a removal and now and then a grant and a seal.
            while (metadata.logBytesUsed() + 320 < SMALL_LOG / 2 && metadata.logGeneration() == generation) {
                writer.put(b("fill-" + i), b("filler " + i));
                if (i % 10 != 0) {
                    writer.delete(b("fill-" + i));
                    writer.drainNotices();
                }
                i++;
            }
            assertThat(metadata.logGeneration()).as("filling did not compact yet").isEqualTo(generation);
            return i;
        }

        SimClient metadataClient() {
            return metadataClient;
        }

        private CloverStore store(SimClient client, MetadataService ms) {
            return CloverStore.builder().fabric(client.asFabric()).memoryNodes(nodes).metadata(ms).open();
        }

        /** Power loss (or none), node restarts, a new metadata server and a fresh reader. */
        void recover(Loss loss) {
            // The old server stops first: it would otherwise go on collecting the racer's notices.
            racer.drainNotices();
            metadata.awaitCollections();
            metadata.close();
            if (loss != Loss.NONE) {
                for (NodeAddress n : nodes) {
                    sim.powerLoss(n, loss == Loss.DROP ? PowerLoss.DROP : PowerLoss.TEAR);
                    sim.restartNode(n);
                }
            }
            recovered = MetadataServer.open(sim.client("recovered-metadata").asFabric(), nodes, options);
            reader = store(sim.client("reader"), recovered);
        }

        /**
         * Node 0 dies after recovery and the recovered server takes it out of service; then a new
         * server replays the log from node 1 alone, and a new reader reads through it.
         */
        void serveFromSecondReplicaAlone() {
            sim.killNode(nodes.get(0));
            recovered.reportUnreachable(0);
            reader.close();
            recovered.close();
            recovered = MetadataServer.open(sim.client("second-replica-metadata").asFabric(), nodes, options);
            reader = store(sim.client("second-replica-reader"), recovered);
        }

        /** The bystander is untouched, a scan agrees with GETs, and the chain still takes writes. */
        void assertIntact(String where, byte[] valueOfK) {
            assertThat(reader.get(L)).as(where).isEqualTo(OTHER);
            Map<String, byte[]> scanned = new HashMap<>();
            try (KvCursor c = reader.scan(new byte[0])) {
                while (c.hasNext()) {
                    KvEntry e = c.next();
                    scanned.put(new String(e.key(), StandardCharsets.UTF_8), e.value());
                }
            }
            assertThat(scanned.get("key")).as(where).isEqualTo(valueOfK);
            assertThat(scanned.get("bystander")).as(where).isEqualTo(OTHER);
            byte[] after = b("written after recovery");
            reader.put(K, after);
            assertThat(reader.get(K)).as(where).isEqualTo(after);
            reader.put(b("new after recovery"), after);
            assertThat(reader.get(L)).as(where).isEqualTo(OTHER);
        }
    }
}
