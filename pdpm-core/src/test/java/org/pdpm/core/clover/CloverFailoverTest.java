package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Completions;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.Verb;
import org.pdpm.rdma.local.LocalFabric;

/**
 * A memory node dies under load (R = 2, two groups): the metadata server takes it out of service,
 * writes go on with the group's other replica, nothing acknowledged is lost, and a restarted
 * server and new clients run without it. Budget: a few seconds.
 */
class CloverFailoverTest {

    private static final int WRITERS = 3;
    private static final int KEYS_PER_WRITER = 200;

    /** Node 0 is group 0's primary and holds the server's log; node 1 its backup; node 3 group 1's backup. */
    @ParameterizedTest(name = "node {0} dies")
    @ValueSource(ints = {0, 1, 3})
    void writesGoOnAndNothingAcknowledgedIsLost(int victim) throws Exception {
        try (LocalPool pool = new LocalPool(4, 2, 8L << 20)) {
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong afterKill = new AtomicLong();
            AtomicBoolean killed = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch warm = new CountDownLatch(WRITERS);
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                CloverStore store = pool.client();
                int id = w;
                Thread t = new Thread(() -> {
                    try {
                        for (long round = 0; !stop.get(); round++) {
                            for (int i = 0; i < KEYS_PER_WRITER && !stop.get(); i++) {
                                String key = id + "/" + i;
                                String value = key + "@" + round;
                                boolean wasKilled = killed.get();
                                store.put(b(key), b(value));
                                acknowledged.put(key, value);
                                if (wasKilled) {
                                    afterKill.incrementAndGet();
                                }
                            }
                            if (round == 0) {
                                warm.countDown();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        warm.countDown();
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            assertThat(warm.await(30, TimeUnit.SECONDS)).isTrue();
            ((LocalFabric) pool.fabric).removeNode(pool.nodes.get(victim));
            killed.set(true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (afterKill.get() < 2_000 && failure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join(10_000);
            }
            assertThat(failure.get()).as("a writer failed").isNull();
            assertThat(afterKill.get()).as("writes acknowledged after the kill").isGreaterThanOrEqualTo(2_000);
            assertThat(pool.metadata.membership().outNodes()).containsExactly(victim);

            assertAcknowledged(pool.client(), acknowledged, "a new client");
            pool.restartMetadata();
            assertThat(pool.metadata.membership().outNodes()).containsExactly(victim);
            CloverStore fresh = pool.client();
            assertAcknowledged(fresh, acknowledged, "after a restart of the server without the dead node");
            fresh.put(b("0/0"), b("after everything"));
            assertThat(fresh.get(b("0/0"))).isEqualTo(b("after everything"));
        }
    }

    @Test
    void aGroupWithNoNodeLeftFailsClearly() {
        try (LocalPool pool = new LocalPool(2, 2, 8L << 20)) {
            CloverStore store = pool.client();
            for (int i = 0; i < 100; i++) {
                store.put(b("k" + i), b("v" + i));
            }
            LocalFabric fabric = (LocalFabric) pool.fabric;
            fabric.removeNode(pool.nodes.get(0));
            fabric.removeNode(pool.nodes.get(1));
            assertThatThrownBy(() -> store.put(b("k1"), b("again"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("group 0");
            assertThatThrownBy(() -> store.get(b("k2"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("group 0");
            assertThat(pool.metadata.membership().outNodes()).as("the last node of a group is never taken out")
                    .hasSizeLessThanOrEqualTo(1);
        }
    }

    /**
     * The primary takes a writer's commit CAS and dies before it answers, and the server collects
     * the key meanwhile, reading the chain from that primary. The writer commits again on the
     * backup; the server must not have unlinked there the version that commit links to (it did,
     * and the writer, sent back to the tail the server knew, linked its own version to itself).
     */
    @Test
    void aCommitOnlyTheDeadPrimaryTookIsNotCollectedOnTheBackup() {
        CommitTrap trap = new CommitTrap();
        try (LocalPool pool = replicatedPair(trap::around)) {
            CloverStore store = pool.client();
            byte[] key = b("k");
            store.put(key, b("v1"));
            store.put(key, b("v2"));
            store.drainNotices();
            pool.metadata.awaitCollections();
            trap.arm(pool.nodes.get(0), () -> pool.metadata.retire(key, 0, 0, 0));
            store.put(key, b("v3"));
            assertThat(trap.sprung).as("the commit CAS reached node 0").isTrue();
            assertThat(pool.metadata.membership().outNodes()).containsExactly(0);
            store.drainNotices();
            pool.metadata.awaitCollections();
            assertThat(pool.metadata.chainLength(key)).isEqualTo(1);
            assertThat(pool.client().get(key)).isEqualTo(b("v3"));
            pool.restartMetadata();
            CloverStore fresh = pool.client();
            assertThat(fresh.get(key)).isEqualTo(b("v3"));
            fresh.put(key, b("v4"));
            assertThat(pool.client().get(key)).isEqualTo(b("v4"));
        }
    }

    /**
     * A writer commits on the primary and dies before copying its link to the backup. The server,
     * looking the key up for another client meanwhile, must not hand out the dead writer's version
     * as the tail: only the primary links it, and once the primary dies a version appended after
     * it would hang off nothing on the backup (an acknowledged write lost at the next restart).
     */
    @Test
    void theServerHandsOutNoTailThatOnlyThePrimaryLinks() {
        BackupLinkCrash crash = new BackupLinkCrash();
        try (LocalPool pool = replicatedPair(crash::around)) {
            CloverStore dying = pool.client();
            byte[] key = b("k");
            dying.put(key, b("v1"));
            dying.put(key, b("v2"));
            crash.dieBetweenCommitAndBackupLink(dying, key, b("v3"), pool.nodes.get(1));
            // A reader meanwhile: its lookup walks the chain the primary holds.
            assertThat(pool.client().get(key)).isIn(b("v2"), b("v3"));
            crash.fabric.local().removeNode(pool.nodes.get(0));

            CloverStore writer = pool.client();
            writer.put(key, b("v4"));
            assertThat(writer.get(key)).isEqualTo(b("v4"));
            pool.restartMetadata();
            assertThat(pool.client().get(key)).as("the acknowledged v4 after a restart").isEqualTo(b("v4"));
        }
    }

    /**
     * As above, from a writer's side: a writer whose commit CAS loses to a version only the
     * primary links (its writer died before its backup link) appends after that version. Before
     * it acknowledges, the link it followed must be on the backup too, or its own version hangs
     * off nothing there once the primary dies.
     */
    @Test
    void aWriterThatFollowsALinkOnlyThePrimaryHoldsCopiesItToTheBackup() {
        v4SurvivesThePrimaryAfterADeadWritersLink(
                (writer, key) -> assertThat(writer.get(key)).isEqualTo(b("v2")),   // its cursor: v2, on both nodes
                (writer, key) -> writer.put(key, b("v4")));   // loses its CAS on v2 to v3, follows, links v4 after v3
    }

    @Test
    void aWriterThatWalksPastALinkOnlyThePrimaryHoldsCopiesItToTheBackup() {
        // No cursor: the server names v2 (linked on both nodes), the writer walks on to v3.
        v4SurvivesThePrimaryAfterADeadWritersLink((writer, key) -> { }, (writer, key) -> writer.put(key, b("v4")));
    }

    @Test
    void aReaderThatWalkedPastALinkOnlyThePrimaryHoldsCopiesItWithItsNextWrite() {
        v4SurvivesThePrimaryAfterADeadWritersLink((client, key) -> { }, (client, key) -> {
            assertThat(client.get(key)).isEqualTo(b("v3"));   // walked from v2; caches v3 as its cursor
            client.put(key, b("v4"));   // its CAS on v3 succeeds at once: no CAS lost, no walk
        });
    }

    @Test
    void aBatchedWriteFromAWalkedCursorCopiesTheWalkedLinksToo() {
        v4SurvivesThePrimaryAfterADeadWritersLink((client, key) -> { }, (client, key) -> {
            assertThat(client.get(key)).isEqualTo(b("v3"));
            client.putAll(List.of(new KvEntry(key, b("v4")), new KvEntry(b("other"), b("x"))));
        });
    }

    /**
     * Two groups (nodes 0–1 and 2–3): v2 sits in the first block (group 0), fillers use that
     * block up, so v3 lands in the next block (group 1). The link v2 → v3 lives in v2's entry, and
     * the walking writer must copy it to group 0's backup, not to the backup of its own link.
     */
    @Test
    void aWalkedLinkIsCopiedToTheBackupOfItsOwnGroup() {
        BackupLinkCrash crash = new BackupLinkCrash();
        try (LocalPool pool = new LocalPool(4, 8L << 20, new MetadataServer.Options(2, 1 << 20, 1 << 14, 64 << 10, 50),
                crash::around)) {
            CloverStore dying = pool.client();
            byte[] key = b("k");
            dying.put(key, b("v1"));
            dying.put(key, b("v2"));
            for (int i = 1; i <= 5; i++) {
                dying.put(b("filler" + i), new byte[15_000]);
            }
            crash.dieBetweenCommitAndBackupLink(dying, key, b("v3"), pool.nodes.get(1));

            pool.client().put(key, b("v4"));   // walks from v2 (what the server names) to v3
            crash.fabric.local().removeNode(pool.nodes.get(0));
            assertThat(pool.client().get(key)).as("the acknowledged v4").isEqualTo(b("v4"));
        }
    }

    @Test
    void aReaderThatKeepsWalkingWithoutWritingKeepsReadingTheNewestAndItsWriteSurvivesThePrimary() {
        BackupLinkCrash crash = new BackupLinkCrash();
        try (LocalPool pool = replicatedPair(crash::around)) {
            CloverStore writer = pool.client();
            CloverStore reader = pool.client();
            byte[] key = b("k");
            writer.put(key, b("w0"));
            // Each read walks one link further from the reader's cursor: it gathers more links than
            // a cursor keeps, so some are copied on their own along the way.
            for (int i = 1; i <= 40; i++) {
                writer.put(key, b("w" + i));
                assertThat(reader.get(key)).isEqualTo(b("w" + i));
            }
            reader.put(key, b("r"));
            crash.fabric.local().removeNode(pool.nodes.get(0));
            assertThat(pool.client().get(key)).isEqualTo(b("r"));
        }
    }

    /**
     * One client writes v1 and v2, then commits v3 on the primary and dies before its backup link.
     * Another client takes its steps {@code before} that and {@code after} it, writing v4; then the
     * primary dies. The acknowledged v4 must be read from the backup, and after a restart of the
     * metadata server.
     */
    private static void v4SurvivesThePrimaryAfterADeadWritersLink(BiConsumer<CloverStore, byte[]> before,
                                                                 BiConsumer<CloverStore, byte[]> after) {
        BackupLinkCrash crash = new BackupLinkCrash();
        try (LocalPool pool = replicatedPair(crash::around)) {
            CloverStore dying = pool.client();
            CloverStore client = pool.client();
            byte[] key = b("k");
            dying.put(key, b("v1"));
            dying.put(key, b("v2"));
            before.accept(client, key);
            crash.dieBetweenCommitAndBackupLink(dying, key, b("v3"), pool.nodes.get(1));

            after.accept(client, key);
            crash.fabric.local().removeNode(pool.nodes.get(0));
            assertThat(pool.client().get(key)).as("the acknowledged v4 on the backup").isEqualTo(b("v4"));
            pool.restartMetadata();
            assertThat(pool.client().get(key)).as("the acknowledged v4 after a restart").isEqualTo(b("v4"));
        }
    }

    /** Makes the first backup link posted to one node throw, as a writer that dies right before it does. */
    private static final class BackupLinkCrash implements InterceptingFabric.Interceptor {
        private InterceptingFabric fabric;
        private volatile NodeAddress backup;

        Fabric around(LocalFabric local) {
            fabric = new InterceptingFabric(local, this);
            return fabric;
        }

        /** {@code dying} puts: its commit CAS lands on the primary, then it dies before the backup link. */
        void dieBetweenCommitAndBackupLink(CloverStore dying, byte[] key, byte[] value, NodeAddress backupNode) {
            backup = backupNode;
            assertThatThrownBy(() -> dying.put(key, value)).hasMessageContaining("writer died");
        }

        @Override
        public CompletableFuture<BatchResult> intercept(NodeAddress address, Connection c, Batch batch) {
            if (!address.equals(backup) || batch.verb(0) != Verb.COMPARE_AND_SWAP) {
                return null;
            }
            backup = null;
            throw new IllegalStateException("the writer died before its backup link");
        }
    }

    /**
     * Lets the first commit CAS posted to one node execute there, runs a step of the test, then
     * kills the node and fails the CAS, as a node that dies before its completion is sent does.
     */
    private static final class CommitTrap implements InterceptingFabric.Interceptor {
        private InterceptingFabric fabric;
        private volatile NodeAddress victim;
        private volatile Runnable meanwhile;
        volatile boolean sprung;

        Fabric around(LocalFabric local) {
            fabric = new InterceptingFabric(local, this);
            return fabric;
        }

        void arm(NodeAddress node, Runnable step) {
            meanwhile = step;
            victim = node;
        }

        @Override
        public CompletableFuture<BatchResult> intercept(NodeAddress address, Connection c, Batch batch) {
            if (!address.equals(victim) || batch.verb(0) != Verb.COMPARE_AND_SWAP) {
                return null;
            }
            victim = null;
            Completions.await(c.post(batch), c.timeoutNanos(), "the victim");
            sprung = true;
            meanwhile.run();
            fabric.local().removeNode(address);
            return CompletableFuture.failedFuture(new FabricException(FabricException.Status.RETRY_EXCEEDED,
                    "node " + address + " died before it answered"));
        }
    }

    /** Two nodes, R = 2, a fabric the test decorates to inject its fault. */
    private static LocalPool replicatedPair(Function<LocalFabric, Fabric> decorate) {
        return new LocalPool(2, 8L << 20, new MetadataServer.Options(2, 1 << 20, 1 << 14, 64 << 10, 50), decorate);
    }

    private static void assertAcknowledged(CloverStore reader, Map<String, String> acknowledged, String who) {
        assertThat(acknowledged).isNotEmpty();
        acknowledged.forEach((k, v) -> assertThat(reader.get(b(k))).as("%s reads %s", who, k).isEqualTo(b(v)));
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
