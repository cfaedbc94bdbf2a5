package org.pdpm.core.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.ConditionalKvStore;

/**
 * Racing clients, each its own store client as separate processes would have: putIfAbsent lets
 * exactly one of them write a key, and the value then read is the winner's; concurrent
 * createLineage (and fork) never hand out one id twice. Budget: about a second per store.
 */
abstract class ConcurrentCatalogTest {

    private static final int CLIENTS = 4;

    private LineagePool pool;
    private ExecutorService threads;

    abstract LineagePool newPool();

    @BeforeEach
    void start() {
        pool = newPool();
        threads = Executors.newFixedThreadPool(CLIENTS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        pool.close();
    }

    /**
     * Per key and round, all clients race one putIfAbsent after a barrier; then one deletes the
     * key and they race again. A linearizable putIfAbsent admits exactly one winner per round,
     * and every client then reads the winner's value.
     */
    @Test
    void exactlyOneRacingPutIfAbsentWinsAndItsValueIsRead() throws Exception {
        int keys = 40;
        int rounds = 2;
        CyclicBarrier barrier = new CyclicBarrier(CLIENTS);
        List<ConditionalKvStore> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(pool.client());
        }
        List<Future<List<String>>> outcomes = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int me = c;
            ConditionalKvStore store = clients.get(c);
            outcomes.add(threads.submit(() -> {
                List<String> won = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    for (int k = 0; k < keys; k++) {
                        byte[] key = ("race/" + k).getBytes(StandardCharsets.UTF_8);
                        barrier.await(10, TimeUnit.SECONDS);
                        if (store.putIfAbsent(key, ("client-" + me).getBytes(StandardCharsets.UTF_8))) {
                            won.add(round + "/" + k);
                        }
                        barrier.await(10, TimeUnit.SECONDS);
                        String read = new String(store.get(key), StandardCharsets.UTF_8);
                        won.add("read " + round + "/" + k + "=" + read);
                        barrier.await(10, TimeUnit.SECONDS);
                        if (me == round % CLIENTS) {
                            store.delete(key);
                        }
                    }
                }
                return won;
            }));
        }
        List<List<String>> results = new ArrayList<>();
        for (Future<List<String>> f : outcomes) {
            results.add(f.get(60, TimeUnit.SECONDS));
        }
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < keys; k++) {
                String point = round + "/" + k;
                List<Integer> winners = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    if (results.get(c).contains(point)) {
                        winners.add(c);
                    }
                }
                assertThat(winners).as("winners of %s", point).hasSize(1);
                for (int c = 0; c < CLIENTS; c++) {
                    assertThat(results.get(c)).as("client %d reads the winner of %s", c, point)
                            .contains("read " + point + "=client-" + winners.get(0));
                }
            }
        }
    }

    @Test
    void concurrentCreateLineageAndForkNeverHandOutOneIdTwice() throws Exception {
        StoreLineages setup = StoreLineages.over(pool.client());
        int origin = setup.createLineage();
        setup.open(origin, 1).put("k".getBytes(StandardCharsets.UTF_8), new byte[] {1});
        setup.pin(origin, 1, "cp");
        int each = 25;
        CyclicBarrier barrier = new CyclicBarrier(CLIENTS);
        List<Future<List<Integer>>> made = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            StoreLineages lineages = StoreLineages.over(pool.client());
            boolean forks = c % 2 == 0;
            made.add(threads.submit(() -> {
                barrier.await(10, TimeUnit.SECONDS);
                List<Integer> ids = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    ids.add(forks ? lineages.fork(origin, 1) : lineages.createLineage());
                }
                return ids;
            }));
        }
        Set<Integer> ids = new HashSet<>();
        ids.add(origin);
        int total = 1;
        for (Future<List<Integer>> f : made) {
            List<Integer> some = f.get(60, TimeUnit.SECONDS);
            ids.addAll(some);
            total += some.size();
        }
        assertThat(ids).as("distinct ids").hasSize(total).hasSize(1 + CLIENTS * each);
        for (int id : ids) {
            LineageRecord r = setup.lineage(id);
            assertThat(r.id()).isEqualTo(id);
            assertThat(r.root() || r.parent() == origin).isTrue();
        }
    }
}
