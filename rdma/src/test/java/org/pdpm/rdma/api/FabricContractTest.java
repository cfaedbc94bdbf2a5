package org.pdpm.rdma.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every fabric promises (DESIGN §2), run against each implementation by a subclass that
 * provides a fabric with one fresh memory node of {@link #REGION_BYTES}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class FabricContractTest {

    protected static final long REGION_BYTES = 16L << 20;

    protected Fabric fabric;
    protected NodeAddress node;
    protected Connection conn;
    protected RemoteRegion region;

    /** A fabric serving one fresh node whose single region has {@link #REGION_BYTES} bytes. */
    protected abstract Fabric createFabric() throws Exception;

    /** The address of that node. */
    protected abstract NodeAddress nodeAddress();

    /** Releases what {@link #createFabric()} started besides the fabric itself. */
    protected void tearDownNode() throws Exception {}

    @BeforeEach
    void setUpFabric() throws Exception {
        fabric = createFabric();
        node = nodeAddress();
        conn = fabric.connect(node);
        region = conn.node().firstRegion();
    }

    @AfterEach
    void tearDownFabric() throws Exception {
        if (conn != null) {
            conn.close();
        }
        if (fabric != null) {
            fabric.close();
        }
        tearDownNode();
    }

    @Test
    void describesItsRegion() {
        assertThat(conn.node().nodeId()).isNotBlank();
        assertThat(region.sizeBytes()).isEqualTo(REGION_BYTES);
    }

    @Test
    void writeThenReadReturnsTheBytes() {
        byte[] data = randomBytes(4096, 1);
        conn.write(region, 12_345, data);
        assertThat(conn.read(region, 12_345, 4096)).isEqualTo(data);
        assertThat(conn.read(region, 12_345 + 100, 8)).isEqualTo(Arrays.copyOfRange(data, 100, 108));
    }

    @Test
    void freshRegionReadsZero() {
        assertThat(conn.read(region, REGION_BYTES - 64, 64)).containsOnly(0);
    }

    @Test
    void writeOfPartOfAnArray() {
        byte[] data = randomBytes(100, 2);
        Batch b = new Batch();
        b.write(region, 64, data, 10, 20);
        int r = b.read(region, 64, 20);
        assertThat(conn.execute(b).bytes(r)).isEqualTo(Arrays.copyOfRange(data, 10, 30));
    }

    @Test
    void compareAndSwapSwapsOnlyOnMatch() {
        assertThat(conn.compareAndSwap(region, 8, 0, 42)).isEqualTo(0);
        assertThat(conn.compareAndSwap(region, 8, 0, 43)).isEqualTo(42);
        assertThat(readLong(8)).isEqualTo(42);
        Batch b = new Batch();
        int ok = b.compareAndSwap(region, 8, 42, -1L);
        int fail = b.compareAndSwap(region, 8, 42, 7);
        BatchResult res = conn.execute(b);
        assertThat(res.swapped(ok)).isTrue();
        assertThat(res.swapped(fail)).isFalse();
        assertThat(res.oldValue(fail)).isEqualTo(-1L);
        assertThat(readLong(8)).isEqualTo(-1L);
    }

    @Test
    void fetchAndAddReturnsTheOldValue() {
        assertThat(conn.fetchAndAdd(region, 16, 5)).isEqualTo(0);
        assertThat(conn.fetchAndAdd(region, 16, -2)).isEqualTo(5);
        assertThat(readLong(16)).isEqualTo(3);
    }

    @Test
    void atomicsAreLittleEndianWordsVisibleToRead() {
        conn.fetchAndAdd(region, 24, 0x0102030405060708L);
        assertThat(conn.read(region, 24, 8)).containsExactly(8, 7, 6, 5, 4, 3, 2, 1);
    }

    @Test
    void flushSucceedsOnAnyRangeInBounds() {
        conn.write(region, 0, randomBytes(256, 3));
        conn.flush(region, 0, 256);
        conn.flush(region, 0, REGION_BYTES);
        conn.flush(region, REGION_BYTES, 0);
    }

    @Test
    void batchExecutesInPostingOrder() {
        Batch b = new Batch();
        b.write(region, 0, longBytes(1));
        int cas = b.compareAndSwap(region, 0, 1, 2);
        int faa = b.fetchAndAdd(region, 0, 10);
        int read = b.read(region, 0, 8);
        b.flush(region, 0, 8);
        BatchResult r = conn.execute(b);
        assertThat(r.swapped(cas)).isTrue();
        assertThat(r.oldValue(faa)).isEqualTo(2);
        assertThat(r.bytes(read)).isEqualTo(longBytes(12));
    }

    @Test
    void manyBatchesInFlightCompleteInOrder() {
        List<CompletableFuture<BatchResult>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Batch b = new Batch();
            b.write(region, 0, longBytes(i));
            b.read(region, 0, 8);
            futures.add(conn.post(b));
        }
        for (int i = 0; i < futures.size(); i++) {
            assertThat(futures.get(i).join().bytes(1)).isEqualTo(longBytes(i));
        }
    }

    @Test
    void wrongRkeyIsARemoteAccessErrorAndChangesNothing() {
        RemoteRegion forged = new RemoteRegion(region.regionId(), region.sizeBytes(), region.rkey() ^ 0x5a5a5a5a);
        assertThatThrownBy(() -> conn.write(forged, 0, longBytes(99)))
                .isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(FabricException.Status.REMOTE_ACCESS_ERROR));
        assertThat(readLong(0)).isZero();
        RemoteRegion missing = new RemoteRegion(region.regionId() + 7, region.sizeBytes(), region.rkey());
        assertStatus(() -> conn.read(missing, 0, 8), FabricException.Status.REMOTE_ACCESS_ERROR);
    }

    @Test
    void outOfBoundsIsARemoteAccessError() {
        assertStatus(() -> conn.read(region, REGION_BYTES - 4, 8), FabricException.Status.REMOTE_ACCESS_ERROR);
        assertStatus(() -> conn.write(region, REGION_BYTES, new byte[1]), FabricException.Status.REMOTE_ACCESS_ERROR);
        assertStatus(() -> conn.read(region, -8, 8), FabricException.Status.REMOTE_ACCESS_ERROR);
        assertStatus(() -> conn.read(region, Long.MAX_VALUE - 2, 8), FabricException.Status.REMOTE_ACCESS_ERROR);
        assertStatus(() -> conn.compareAndSwap(region, REGION_BYTES, 0, 1), FabricException.Status.REMOTE_ACCESS_ERROR);
        assertStatus(() -> conn.flush(region, 8, REGION_BYTES), FabricException.Status.REMOTE_ACCESS_ERROR);
        // The last bytes of the region are still reachable.
        conn.write(region, REGION_BYTES - 8, longBytes(5));
        assertThat(readLong(REGION_BYTES - 8)).isEqualTo(5);
    }

    @Test
    void misalignedAtomicIsAnInvalidRequest() {
        assertStatus(() -> conn.compareAndSwap(region, 4, 0, 1), FabricException.Status.REMOTE_INVALID_REQUEST);
        assertStatus(() -> conn.fetchAndAdd(region, 9, 1), FabricException.Status.REMOTE_INVALID_REQUEST);
        assertThat(conn.read(region, 0, 16)).containsOnly(0);
    }

    @Test
    void aBatchWithOneBadRequestIsRefusedWhole() {
        Batch b = new Batch();
        b.write(region, 0, longBytes(77));
        b.fetchAndAdd(region, 8, 1);
        b.read(region, REGION_BYTES, 8);
        assertThatThrownBy(() -> conn.execute(b)).isInstanceOf(FabricException.class);
        assertThat(readLong(0)).isZero();
        assertThat(readLong(8)).isZero();
        // The connection keeps serving after a refused batch.
        conn.write(region, 0, longBytes(78));
        assertThat(readLong(0)).isEqualTo(78);
    }

    @Test
    void largestTransferWorksAndOneByteMoreIsRefusedLocally() {
        byte[] big = randomBytes(FabricLimits.MAX_TRANSFER_BYTES, 4);
        conn.write(region, 0, big);
        assertThat(conn.read(region, 0, FabricLimits.MAX_TRANSFER_BYTES)).isEqualTo(big);
        assertStatus(() -> conn.read(region, 0, FabricLimits.MAX_TRANSFER_BYTES + 1),
                FabricException.Status.LOCAL_LENGTH_ERROR);
    }

    @Test
    void batchOfMaximumSizeWorks() {
        Batch b = new Batch();
        for (int i = 0; i < FabricLimits.MAX_BATCH_VERBS; i++) {
            b.fetchAndAdd(region, 8L * (i % 64), 1);
        }
        conn.execute(b);
        assertThat(readLong(0)).isEqualTo(FabricLimits.MAX_BATCH_VERBS / 64);
        assertStatus(() -> b.read(region, 0, 8), FabricException.Status.LOCAL_LENGTH_ERROR);
    }

    @Test
    void emptyBatchCompletes() {
        assertThat(conn.execute(new Batch()).batch().size()).isZero();
    }

    @Test
    void statsCountRoundTripsVerbsAndBytes() {
        TrafficCounter.Snapshot before = conn.stats().snapshot();
        Batch b = new Batch();
        b.read(region, 0, 100);
        b.write(region, 200, new byte[50]);
        b.compareAndSwap(region, 0, 0, 0);
        b.flush(region, 200, 50);
        conn.execute(b);
        conn.read(region, 0, 8);
        TrafficCounter.Snapshot d = conn.stats().snapshot().minus(before);
        assertThat(d.roundTrips()).isEqualTo(2);
        assertThat(d.verbs()).isEqualTo(5);
        assertThat(d.bytes()).isEqualTo(100 + 50 + 8 + 8);
    }

    @Test
    void fetchAndAddFromEightThreadsOverThreeConnectionsSumsExactly() throws Exception {
        int threads = 8;
        int perThread = 2_000;
        List<Connection> conns = List.of(conn, fabric.connect(node), fabric.connect(node));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Connection c = conns.get(t % conns.size());
                int delta = t + 1;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i += 4) {
                        Batch b = new Batch();
                        for (int k = 0; k < 4; k++) {
                            b.fetchAndAdd(region, 4096, delta);
                        }
                        c.execute(b);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            conns.get(1).close();
            conns.get(2).close();
        }
        long expected = (long) perThread * (threads * (threads + 1) / 2);
        assertThat(readLong(4096)).isEqualTo(expected);
    }

    @Test
    void concurrentCompareAndSwapIncrementsLoseNothing() throws Exception {
        int threads = 6;
        int perThread = 500;
        List<Connection> conns = List.of(conn, fabric.connect(node), fabric.connect(node));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Connection c = conns.get(t % conns.size());
                done.add(pool.submit(() -> {
                    int retries = 0;
                    for (int i = 0; i < perThread; i++) {
                        long seen = c.fetchAndAdd(region, 8192, 0);
                        while (true) {
                            long found = c.compareAndSwap(region, 8192, seen, seen + 1);
                            if (found == seen) {
                                break;
                            }
                            seen = found;
                            retries++;
                        }
                    }
                    return retries;
                }));
            }
            for (Future<Integer> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            conns.get(1).close();
            conns.get(2).close();
        }
        assertThat(readLong(8192)).isEqualTo((long) threads * perThread);
    }

    @Test
    void postingOnAClosedConnectionFailsFlushed() {
        Connection c = fabric.connect(node);
        c.close();
        assertStatus(() -> c.read(region, 0, 8), FabricException.Status.FLUSHED);
    }

    @Test
    void connectingToANodeThatDoesNotExistIsRefused() {
        NodeAddress nowhere = unusedAddress();
        assertThatThrownBy(() -> fabric.connect(nowhere)).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status())
                        .isIn(FabricException.Status.CONNECTION_REFUSED, FabricException.Status.RETRY_EXCEEDED));
    }

    /** An address where no node of this fabric listens. */
    protected abstract NodeAddress unusedAddress();

    // ---- helpers ----

    protected long readLong(long offset) {
        return ByteBuffer.wrap(conn.read(region, offset, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    protected static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    protected static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static void assertStatus(Runnable call, FabricException.Status status) {
        assertThatThrownBy(call::run).isInstanceOf(FabricException.class)
                .satisfies(e -> assertThat(((FabricException) e).status()).isEqualTo(status));
    }
}
