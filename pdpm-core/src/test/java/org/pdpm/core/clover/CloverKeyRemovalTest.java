package org.pdpm.core.clover;

import org.pdpm.core.api.Lineages;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvCursor;

/**
 * Deleted keys leave the index and their shortcut slots are reused, and the metadata log is
 * compacted when it fills: a store whose keys come and go (window state, TTL) runs far beyond the
 * pool's key capacity and its log's size, and keeps everything across restarts. Budget: ~10 s.
 */
class CloverKeyRemovalTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void settle(LocalPool pool, CloverStore... writers) {
        for (CloverStore w : writers) {
            w.drainNotices();
        }
        pool.metadata.awaitCollections();
    }

    /**
     * A lineage that ends (a Flink task's, say) leaves keys whose only version it wrote: once no
     * lineage or pin sees them, a sweep removes them from the index; a pin keeps them until released.
     */
    @Test
    void keysOnlyADroppedLineageWroteLeaveTheIndexOnceNoPinSeesThem() {
        try (LocalPool pool = new LocalPool(1, 1, 8L << 20)) {
            CloverStore root = pool.client();
            root.put(b("shared"), b("root"));
            int lineage = pool.metadata.createLineage();
            CloverStore writer = CloverStore.builder().fabric(pool.fabric).memoryNodes(pool.nodes)
                    .metadata(pool.metadata).lineage(lineage).epoch(1).open();
            for (int i = 0; i < 200; i++) {
                writer.put(b("only" + i), b("v" + i));
            }
            writer.put(b("shared"), b("lineage"));
            writer.pin(1, "checkpoint");
            writer.close();
            pool.metadata.dropLineage(lineage);
            settle(pool, root);
            assertThat(pool.metadata.keyCount()).as("a pin still sees them").isEqualTo(201);
            assertThat(root.asOf(lineage, 1).get(b("only7"))).isEqualTo(b("v7"));

            pool.metadata.unpin(lineage, 1, "checkpoint");
            settle(pool, root);
            assertThat(pool.metadata.keyCount()).as("only the key the root lineage wrote stays").isEqualTo(1);
            assertThat(root.get(b("shared"))).isEqualTo(b("root"));
            assertThat(root.get(b("only7"))).isNull();
            root.put(b("only7"), b("again"));   // the key comes back as new
            assertThat(root.get(b("only7"))).isEqualTo(b("again"));
            assertThat(pool.metadata.keyCount()).isEqualTo(2);
        }
    }

    @Test
    void aDeletedKeyLeavesTheIndexAndComesBackWhenWrittenAgain() {
        try (LocalPool pool = new LocalPool(1, 1, 8L << 20)) {
            CloverStore store = pool.client();
            CloverStore other = pool.client();
            for (int i = 0; i < 100; i++) {
                store.put(b("k" + i), b("v" + i));
            }
            for (int i = 0; i < 100; i++) {
                assertThat(other.get(b("k" + i))).isEqualTo(b("v" + i));   // caches cursors
            }
            for (int i = 0; i < 100; i += 2) {
                store.delete(b("k" + i));
            }
            settle(pool, store);
            assertThat(pool.metadata.keyCount()).isEqualTo(50);
            for (int i = 0; i < 100; i++) {
                assertThat(other.get(b("k" + i))).as("k%d through a stale cursor", i)
                        .isEqualTo(i % 2 == 0 ? null : b("v" + i));
            }
            List<String> scanned = new ArrayList<>();
            try (KvCursor c = other.scan(b("k"))) {
                c.forEachRemaining(e -> scanned.add(new String(e.key(), StandardCharsets.UTF_8)));
            }
            assertThat(scanned).hasSize(50).allMatch(k -> Integer.parseInt(k.substring(1)) % 2 == 1);
            other.delete(b("k0"));   // already gone: nothing to delete
            for (int i = 0; i < 100; i += 2) {
                other.put(b("k" + i), b("again" + i));   // through a cursor to a removed tombstone
            }
            assertThat(pool.metadata.keyCount()).isEqualTo(100);
            for (int i = 0; i < 100; i++) {
                assertThat(store.get(b("k" + i))).isEqualTo(b((i % 2 == 0 ? "again" : "v") + i));
            }
        }
    }

    @Test
    void keysThatComeAndGoRunFarBeyondTheKeyCapacityAndTheLogSize() {
        // 256 shortcut slots and a 64 KiB log (two halves of 32 KiB): 20,000 keys created and deleted.
        MetadataServer.Options small = new MetadataServer.Options(1, 64 << 10, 256, 64 << 10, 0);
        try (LocalPool pool = new LocalPool(1, 16L << 20, small)) {
            CloverStore store = pool.client();
            store.pin(0, "held");
            int lineage = pool.metadata.createLineage();
            for (int i = 0; i < 20_000; i++) {
                store.put(b("window/" + i), b("state " + i));
                if (i >= 100) {
                    store.delete(b("window/" + (i - 100)));
                }
                if (i % 50 == 49) {   // removals trail the deletes by the notices in flight
                    settle(pool, store);
                }
            }
            settle(pool, store);
            assertThat(pool.metadata.keyCount()).isBetween(100, 200);
            assertThat(pool.metadata.logGeneration()).as("the log was compacted").isGreaterThan(2);
            long clientId = store.clientId();
            assertLive(store);

            pool.restartMetadata();
            assertThat(pool.metadata.pins()).containsExactly(new Lineages.Pin(0, 0, "held"));
            assertThat(pool.metadata.lineage(lineage).live()).isTrue();
            CloverStore fresh = pool.client();
            assertThat(fresh.clientId()).as("client ids are never reused").isGreaterThan(clientId);
            assertLive(fresh);
            for (int i = 20_000; i < 21_000; i++) {
                fresh.put(b("window/" + i), b("state " + i));
                fresh.delete(b("window/" + (i - 100)));
                if (i % 50 == 49) {
                    settle(pool, fresh);
                }
            }
            settle(pool, fresh);
            for (int i = 20_900; i < 21_000; i++) {
                assertThat(fresh.get(b("window/" + i))).isEqualTo(b("state " + i));
            }
        }
    }

    private static void assertLive(CloverStore reader) {
        for (int i = 0; i < 20_000; i += 97) {
            assertThat(reader.get(b("window/" + i))).as("window/%d", i).isEqualTo(i >= 19_900 ? b("state " + i) : null);
        }
        for (int i = 19_900; i < 20_000; i++) {
            assertThat(reader.get(b("window/" + i))).as("window/%d", i).isEqualTo(b("state " + i));
        }
    }
}
