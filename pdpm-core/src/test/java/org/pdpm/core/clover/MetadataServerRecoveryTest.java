package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.SpaceExhaustedException;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.api.Batch;
import org.pdpm.rdma.api.BatchResult;
import org.pdpm.rdma.api.Connection;
import org.pdpm.rdma.api.Fabric;
import org.pdpm.rdma.api.FabricException;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.api.Verb;
import org.pdpm.rdma.local.LocalFabric;

/** The metadata server keeps nothing only its memory knows: a new one on the same nodes has it all. */
class MetadataServerRecoveryTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRestartedServerKnowsEveryKeyAndHandsOutNoBlockTwice() {
        try (LocalPool pool = new LocalPool(2, 2, 4 << 20)) {
            CloverStore before = pool.client();
            for (int i = 0; i < 500; i++) {
                before.put(b("key-" + i), b("value-" + i));
            }
            for (int i = 0; i < 500; i += 7) {
                before.put(b("key-" + i), b("newer-" + i));
            }
            before.delete(b("key-3"));
            before.drainNotices();
            pool.metadata.awaitCollections();   // the deleted key has left the index
            int blocksBefore = (int) (pool.metadata.logBytesUsed());

            pool.restartMetadata();
            assertThat(pool.metadata.keyCount()).isEqualTo(499);
            assertThat(pool.metadata.logBytesUsed()).isEqualTo(blocksBefore);

            CloverStore after = pool.client();
            assertThat(after.clientId()).isGreaterThan(before.clientId());
            for (int i = 0; i < 500; i++) {
                byte[] expected = i == 3 ? null : b((i % 7 == 0 ? "newer-" : "value-") + i);
                assertThat(after.get(b("key-" + i))).as("key-%d", i).isEqualTo(expected);
            }
            // New writes land in fresh blocks: nothing written before is overwritten.
            for (int i = 0; i < 500; i++) {
                after.put(b("other-" + i), b("x".repeat(100)));
            }
            for (int i = 1; i < 500; i += 50) {
                assertThat(after.get(b("key-" + i))).isEqualTo(b((i % 7 == 0 ? "newer-" : "value-") + i));
            }
            Set<String> scanned = new HashSet<>();
            try (KvCursor c = after.scan(b("key-"))) {
                while (c.hasNext()) {
                    KvEntry e = c.next();
                    scanned.add(new String(e.key(), StandardCharsets.UTF_8));
                }
            }
            assertThat(scanned).hasSize(499).doesNotContain("key-3");
        }
    }

    @Test
    void aFullPoolFailsClearlyAndChangesNothing() {
        try (LocalPool pool = new LocalPool(1, 1, 2 << 20)) {
            CloverStore store = pool.client();
            store.put(b("first"), b("kept"));
            byte[] big = new byte[16 << 10];
            assertThatThrownBy(() -> {
                for (int i = 0; i < 10_000; i++) {
                    store.put(b("fill-" + i), big);
                }
            }).isInstanceOf(SpaceExhaustedException.class).hasMessageContaining("no free block");
            assertThat(store.get(b("first"))).isEqualTo(b("kept"));
        }
    }

    @Test
    void nodesGivenOutOfOrderOrWithAnotherReplicationAreRefused() {
        try (LocalPool pool = new LocalPool(2, 1, 2 << 20)) {
            pool.client().put(b("k"), b("v"));
            pool.metadata.close();
            java.util.List<NodeAddress> swapped = List.of(pool.nodes.get(1), pool.nodes.get(0));
            assertThatThrownBy(() -> MetadataServer.open(pool.fabric, swapped, pool.options()))
                    .hasMessageContaining("original order");
            assertThatThrownBy(() -> MetadataServer.open(pool.fabric, pool.nodes, new MetadataServer.Options(2, 1 << 20, 1 << 14, 64 << 10, 50)))
                    .hasMessageContaining("replication=1");
            pool.metadata = MetadataServer.open(pool.fabric, pool.nodes, pool.options());
        }
    }

    /**
     * A log replica refuses a batch of creates (an I/O error, not silence) after the other took it:
     * the server appends nothing more until restarted, so a later append cannot line up with the
     * stray records; after the restart every key has its own slot and its own value.
     */
    @Test
    void aRefusedLogWriteStopsAppendsUntilARestartMakesTheReplicasAgree() {
        RefusingFabric refusing = new RefusingFabric();
        MetadataServer.Options options = new MetadataServer.Options(2, 1 << 20, 1 << 14, 64 << 10, 50);
        try (LocalPool pool = new LocalPool(2, 8L << 20, options, refusing::around)) {
            CloverStore store = pool.client();
            store.put(b("before"), b("kept"));
            PoolLayoutRange log = new PoolLayoutRange(pool.metadata.pool().logOffset(), pool.metadata.pool().logBytes());
            refusing.refuseNextWrite(pool.nodes.get(1), log);
            assertThatThrownBy(() -> store.putAll(List.of(new KvEntry(b("n1"), b("v1")),
                    new KvEntry(b("n2"), b("v2"))))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("must be restarted");
            assertThatThrownBy(() -> store.put(b("n3"), b("v3"))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("restart the metadata server");
            assertThat(store.get(b("before"))).isEqualTo(b("kept"));

            pool.restartMetadata();
            CloverStore after = pool.client();
            for (String k : new String[] {"n1", "n2"}) {
                assertThat(after.get(b(k))).as("unacknowledged: absent or whole").isIn(null, b("v" + k.charAt(1)));
            }
            for (int i = 0; i < 20; i++) {
                after.put(b("fresh-" + i), b("value-" + i));
            }
            after.put(b("n1"), b("w1"));
            after.put(b("n2"), b("w2"));
            pool.restartMetadata();
            CloverStore reader = pool.client();
            for (int i = 0; i < 20; i++) {
                assertThat(reader.get(b("fresh-" + i))).isEqualTo(b("value-" + i));
            }
            assertThat(reader.get(b("n1"))).isEqualTo(b("w1"));
            assertThat(reader.get(b("n2"))).isEqualTo(b("w2"));
            assertThat(reader.get(b("before"))).isEqualTo(b("kept"));
        }
    }

    private record PoolLayoutRange(long offset, long bytes) {
        boolean holds(long at) {
            return at >= offset && at < offset + bytes;
        }
    }

    /** Fails, unexecuted, the next batch to one node that writes into a range, as a node with an I/O error would. */
    private static final class RefusingFabric implements InterceptingFabric.Interceptor {
        private volatile NodeAddress victim;
        private volatile PoolLayoutRange range;

        Fabric around(LocalFabric fabric) {
            return new InterceptingFabric(fabric, this);
        }

        void refuseNextWrite(NodeAddress node, PoolLayoutRange inRange) {
            range = inRange;
            victim = node;
        }

        @Override
        public CompletableFuture<BatchResult> intercept(
                NodeAddress address, Connection real, Batch batch) {
            if (!address.equals(victim) || batch.verb(0) != Verb.WRITE || !range.holds(batch.offset(0))) {
                return null;
            }
            victim = null;
            return CompletableFuture.failedFuture(new FabricException(
                    FabricException.Status.REMOTE_OPERATION_ERROR, "I/O error on the node's memory file"));
        }
    }
}
