package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.SpaceExhaustedException;

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
            java.util.List<org.pdpm.rdma.api.NodeAddress> swapped = java.util.List.of(pool.nodes.get(1), pool.nodes.get(0));
            assertThatThrownBy(() -> MetadataServer.open(pool.fabric, swapped, pool.options()))
                    .hasMessageContaining("original order");
            assertThatThrownBy(() -> MetadataServer.open(pool.fabric, pool.nodes, new MetadataServer.Options(2, 1 << 20, 1 << 14, 64 << 10, 50)))
                    .hasMessageContaining("replication=1");
            pool.metadata = MetadataServer.open(pool.fabric, pool.nodes, pool.options());
        }
    }
}
