package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.pdpm.core.layout.EntryLayout;
import org.pdpm.rdma.api.NodeAddress;
import org.pdpm.rdma.local.LocalFabric;

/**
 * Superseded versions are reclaimed: churn far beyond the pool's size fits in 4× the live data,
 * and clients holding cursors into reclaimed space neither read nor link into the wrong version.
 * The two churn tests run at the issue's full size, 100,000 keys × 50 overwrites (budget: about
 * 25 s each on 2 cores; {@code -Dpdpm.gc.keys=N} shrinks them); the others use 2,000 keys and
 * take a few seconds.
 */
class CloverGarbageCollectionTest {

    private static final int FULL_KEYS = Integer.getInteger("pdpm.gc.keys", 100_000);
    private static final int SMALL_KEYS = Math.min(2_000, FULL_KEYS);

    /** Keys of the current test: full size for the churn tests, small for the others. */
    private int keys = SMALL_KEYS;
    private static final int VALUE_BYTES = 200;
    private static final int BLOCK_BYTES = 64 << 10;

    private final List<AutoCloseable> open = new ArrayList<>();
    private LocalFabric fabric;
    private List<NodeAddress> nodes;
    private MetadataServer.Options options;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        fabric.close();
    }

    /** One node whose data area is {@code factor} times the live data. */
    private MetadataServer pool(double factor) {
        long live = (long) keys * EntryLayout.entryBytes(12, VALUE_BYTES);
        long dataBlocks = (long) Math.ceil(factor * live / BLOCK_BYTES);
        // The log holds a record per key, and a grant and a seal per block of churn.
        long logBytes = Math.max(256 << 10, (long) keys * 128) / 4096 * 4096;
        long maxKeys = Math.max(4096, keys);
        options = new MetadataServer.Options(1, logBytes, maxKeys, BLOCK_BYTES, 20);
        long metadataBytes = 4096 + logBytes + maxKeys * 8;
        long dataOffset = (metadataBytes + BLOCK_BYTES - 1) / BLOCK_BYTES * BLOCK_BYTES;
        fabric = new LocalFabric();
        nodes = List.of(fabric.addNode(dataOffset + dataBlocks * BLOCK_BYTES));
        return metadata();
    }

    private MetadataServer metadata() {
        MetadataServer ms = MetadataServer.open(fabric, nodes, options);
        open.add(ms);
        return ms;
    }

    private CloverStore client(MetadataServer ms) {
        CloverStore c = CloverStore.builder().fabric(fabric).memoryNodes(nodes).metadata(ms).open();
        open.add(c);
        return c;
    }

    private static byte[] key(int i) {
        return String.format("key-%08d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i, int round) {
        byte[] v = new byte[VALUE_BYTES];
        byte[] tag = (i + "@" + round).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(tag, 0, v, 0, tag.length);
        return v;
    }

    @Test
    void fiftyOverwritesOfEveryKeyFitInFourTimesTheLiveData() {
        keys = FULL_KEYS;
        MetadataServer ms = pool(4.0);
        CloverStore store = client(ms);
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < keys; i++) {
                store.put(key(i), value(i, round));
            }
        }
        for (int i = 0; i < keys; i++) {
            assertThat(store.get(key(i))).as("key %d", i).isEqualTo(value(i, 49));
        }
        assertThat(ms.keyCount()).isEqualTo(keys);
    }

    @Test
    void aPinnedEpochStaysReadableThroughTheSameChurn() {
        keys = FULL_KEYS;
        MetadataServer ms = pool(4.0);
        CloverStore store = client(ms);
        for (int i = 0; i < keys; i++) {
            store.put(key(i), value(i, 0));
        }
        store.pin(0, "checkpoint 0");
        for (int round = 1; round < 50; round++) {
            store.advanceEpoch(round);
            for (int i = 0; i < keys; i++) {
                store.put(key(i), value(i, round));
            }
        }
        var pinned = store.asOf(MetadataService.ROOT_LINEAGE, 0);
        for (int i = 0; i < keys; i++) {
            assertThat(pinned.get(key(i))).as("key %d at epoch 0", i).isEqualTo(value(i, 0));
            assertThat(store.get(key(i))).as("key %d", i).isEqualTo(value(i, 49));
        }
    }

    @Test
    void staleCursorsIntoReclaimedSpaceAreNoticedByReadersAndWriters() {
        MetadataServer ms = pool(4.0);
        CloverStore writer = client(ms);
        CloverStore sleeper = client(ms);
        for (int i = 0; i < keys; i++) {
            writer.put(key(i), value(i, 0));
        }
        for (int i = 0; i < keys; i++) {
            assertThat(sleeper.get(key(i))).isEqualTo(value(i, 0));   // caches a cursor per key
        }
        for (int round = 1; round <= 20; round++) {
            for (int i = 0; i < keys; i++) {
                writer.put(key(i), value(i, round));
            }
        }
        assertThat(ms.reclaimedBlocks() + 1).as("space was reclaimed and reused").isPositive();
        for (int i = 0; i < keys; i += 7) {
            assertThat(sleeper.get(key(i))).as("key %d", i).isEqualTo(value(i, 20));
        }
        for (int i = 1; i < keys; i += 7) {
            sleeper.put(key(i), value(i, 99));
        }
        for (int i = 0; i < keys; i++) {
            assertThat(writer.get(key(i))).as("key %d", i).isEqualTo(value(i, i % 7 == 1 ? 99 : 20));
        }
    }

    @Test
    void aRestartedServerStartsKeysFromTheirShortcutsNotFromReclaimedHeads() {
        MetadataServer ms = pool(4.0);
        CloverStore store = client(ms);
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < keys; i++) {
                store.put(key(i), value(i, round));
            }
        }
        store.close();
        open.remove(store);
        ms.close();
        open.remove(ms);
        MetadataServer restarted = metadata();
        CloverStore fresh = client(restarted);
        for (int i = 0; i < keys; i++) {
            assertThat(fresh.get(key(i))).as("key %d", i).isEqualTo(value(i, 9));
        }
        for (int i = 0; i < keys; i++) {
            fresh.put(key(i), value(i, 10));
        }
        for (int i = 0; i < keys; i++) {
            assertThat(fresh.get(key(i))).isEqualTo(value(i, 10));
        }
    }
}
