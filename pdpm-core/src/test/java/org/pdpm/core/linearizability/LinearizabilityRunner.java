package org.pdpm.core.linearizability;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.pdpm.core.api.KvStore;

/**
 * Runs seeded histories against a store with real threads and checks each one with
 * {@link LinearizabilityChecker}. Per history: {@code clients} threads, started together, each run
 * {@code operationsPerClient} random GETs, PUTs and DELETEs on {@code keys} keys, with a seeded
 * {@link DelayInjector} pause before each. Every PUT writes a value no other PUT writes
 * ({@code c<client>-<n>}), so a read names the write it saw.
 *
 * <p>The seed fixes the operations and the pauses; the thread schedule it cannot fix, so a replayed
 * seed reproduces the workload, and a bug it found again with high probability. Setting
 * {@value #SEED_PROPERTY} runs that one seed instead of the configured range.
 *
 * <p>Keys are named after the seed, so a factory may hand out the same store for every history.
 */
public final class LinearizabilityRunner {

    /** Replays one seed: {@code -Dpdpm.lin.seed=12345}. */
    public static final String SEED_PROPERTY = "pdpm.lin.seed";

    private static final int GET_PERCENT = 50;
    private static final int PUT_PERCENT = 35;

    private final Supplier<? extends ClientFactory> freshClients;
    private int clients = 4;
    private int keys = 3;
    private int operationsPerClient = 30;
    private int histories = 500;
    private long firstSeed = 1;
    private DelayInjector delays = DelayInjector.mixed();
    private Duration historyTimeout = Duration.ofSeconds(30);
    private LinearizabilityChecker checker = new LinearizabilityChecker();
    private final List<Class<? extends RuntimeException>> unknownOutcomes = new ArrayList<>();

    private LinearizabilityRunner(Supplier<? extends ClientFactory> freshClients) {
        this.freshClients = Objects.requireNonNull(freshClients, "freshClients");
    }

    /** Every client of a history shares one store from {@code freshStore}, closed after the history. */
    public static LinearizabilityRunner forSharedStore(Supplier<? extends KvStore> freshStore) {
        Objects.requireNonNull(freshStore, "freshStore");
        return new LinearizabilityRunner(() -> new SharedStore(freshStore.get()));
    }

    /** Each client of a history gets its own handle from one {@link ClientFactory}. */
    public static LinearizabilityRunner forClients(Supplier<? extends ClientFactory> freshClients) {
        return new LinearizabilityRunner(freshClients);
    }

    public LinearizabilityRunner clients(int clients) {
        this.clients = positive("clients", clients);
        return this;
    }

    public LinearizabilityRunner keys(int keys) {
        this.keys = positive("keys", keys);
        return this;
    }

    public LinearizabilityRunner operationsPerClient(int operationsPerClient) {
        this.operationsPerClient = positive("operationsPerClient", operationsPerClient);
        return this;
    }

    public LinearizabilityRunner histories(int histories) {
        this.histories = positive("histories", histories);
        return this;
    }

    /** Seeds run from {@code firstSeed} to {@code firstSeed + histories - 1}. */
    public LinearizabilityRunner firstSeed(long firstSeed) {
        this.firstSeed = firstSeed;
        return this;
    }

    public LinearizabilityRunner delays(DelayInjector delays) {
        this.delays = Objects.requireNonNull(delays, "delays");
        return this;
    }

    public LinearizabilityRunner historyTimeout(Duration historyTimeout) {
        if (historyTimeout.isNegative() || historyTimeout.isZero()) {
            throw new IllegalArgumentException("historyTimeout=" + historyTimeout + " must be positive");
        }
        this.historyTimeout = historyTimeout;
        return this;
    }

    public LinearizabilityRunner checker(LinearizabilityChecker checker) {
        this.checker = Objects.requireNonNull(checker, "checker");
        return this;
    }

    /**
     * Operations that throw {@code type} (a crashed client, an unreachable server) may or may not
     * have taken effect; they are checked as pending and the client carries on. Any other exception
     * fails the run.
     */
    public LinearizabilityRunner treatAsUnknownOutcome(Class<? extends RuntimeException> type) {
        unknownOutcomes.add(Objects.requireNonNull(type, "type"));
        return this;
    }

    /**
     * Runs every seed, stopping at the first failure.
     *
     * @throws AssertionError naming the seed, when a history is not linearizable, its check is
     *                        inconclusive, or a client failed or hung
     */
    public RunSummary run() {
        String replay = System.getProperty(SEED_PROPERTY);
        long first = replay == null ? firstSeed : Long.parseLong(replay.trim());
        int count = replay == null ? histories : 1;
        long operations = 0;
        long unknown = 0;
        long start = System.nanoTime();
        for (long seed = first; seed < first + count; seed++) {
            CheckedHistory checked = runHistory(seed);
            switch (checked.result().verdict()) {
                case NOT_LINEARIZABLE -> throw new AssertionError(
                        "history not linearizable for " + seedText(seed) + ": " + checked.result().explanation());
                case INCONCLUSIVE -> throw new AssertionError(
                        "history check inconclusive, counted as a failure, for " + seedText(seed) + ": "
                                + checked.result().explanation());
                case LINEARIZABLE -> {
                    operations += checked.operations();
                    unknown += checked.unknownOutcomes();
                }
            }
        }
        return new RunSummary(count, operations, unknown, System.nanoTime() - start);
    }

    private CheckedHistory runHistory(long seed) {
        History history = new History();
        SplittableRandom seeds = new SplittableRandom(seed);
        String[] keyNames = new String[keys];
        for (int k = 0; k < keys; k++) {
            keyNames[k] = "s" + seed + "-k" + k;
        }
        Client[] running = new Client[clients];
        try (ClientFactory factory = freshClients.get()) {
            for (int c = 0; c < clients; c++) {
                running[c] = new Client(c, factory.client(c), history.recorder(c), seeds.split(), keyNames);
            }
            runConcurrently(running, seed);
        }
        long unknown = 0;
        for (Client client : running) {
            unknown += client.unknownOutcomes;
        }
        List<Operation> operations = history.operations();
        return new CheckedHistory(checker.check(operations), operations.size(), unknown);
    }

    private void runConcurrently(Client[] running, long seed) {
        // Released together, so no client has finished before the last one starts.
        CountDownLatch startGate = new CountDownLatch(1);
        Thread[] threads = new Thread[running.length];
        for (int c = 0; c < running.length; c++) {
            Client client = running[c];
            threads[c] = new Thread(() -> client.runAfter(startGate), "lin-client-" + c);
            // A client hung in the store must not keep the JVM alive after the run has failed.
            threads[c].setDaemon(true);
            threads[c].start();
        }
        startGate.countDown();
        long deadline = System.nanoTime() + historyTimeout.toNanos();
        try {
            for (Thread thread : threads) {
                thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + seedText(seed), e);
        } finally {
            for (Thread thread : threads) {
                thread.interrupt();
            }
        }
        for (int c = 0; c < running.length; c++) {
            if (threads[c].isAlive()) {
                throw new AssertionError("client " + c + " did not finish within historyTimeout=" + historyTimeout
                        + " for " + seedText(seed));
            }
            if (running[c].failure != null) {
                throw new AssertionError("client " + c + " failed for " + seedText(seed) + ": " + running[c].failure,
                        running[c].failure);
            }
        }
    }

    private static String seedText(long seed) {
        return "seed=" + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")";
    }

    private static int positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + "=" + value + " must be positive");
        }
        return value;
    }

    private boolean isUnknownOutcome(Throwable thrown) {
        return unknownOutcomes.stream().anyMatch(type -> type.isInstance(thrown));
    }

    private record CheckedHistory(CheckResult result, long operations, long unknownOutcomes) {}

    private record SharedStore(KvStore store) implements ClientFactory {

        @Override
        public KvStore client(int clientId) {
            return store;
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** One client thread: its store handle, its recorder and its share of the seed. */
    private final class Client {

        private final int id;
        private final KvStore store;
        private final History.Recorder recorder;
        private final SplittableRandom random;
        private final String[] keyNames;
        private final byte[][] keyBytes;
        // Read by the runner after join(), which publishes them.
        private long unknownOutcomes;
        private Throwable failure;

        Client(int id, KvStore store, History.Recorder recorder, SplittableRandom random, String[] keyNames) {
            this.id = id;
            this.store = store;
            this.recorder = recorder;
            this.random = random;
            this.keyNames = keyNames;
            this.keyBytes = new byte[keyNames.length][];
            for (int k = 0; k < keyNames.length; k++) {
                keyBytes[k] = keyNames[k].getBytes(StandardCharsets.UTF_8);
            }
        }

        void runAfter(CountDownLatch startGate) {
            try {
                startGate.await();
            } catch (InterruptedException e) {
                failure = e;
                return;
            }
            for (int n = 0; n < operationsPerClient && failure == null; n++) {
                delays.pause(random);
                try {
                    runOne(n);
                } catch (RuntimeException e) {
                    if (isUnknownOutcome(e)) {
                        unknownOutcomes++;
                    } else {
                        failure = e;
                    }
                } catch (Error e) {
                    failure = e;
                }
            }
        }

        private void runOne(int n) {
            int k = random.nextInt(keyNames.length);
            int roll = random.nextInt(100);
            if (roll < GET_PERCENT) {
                History.Call call = recorder.invokeGet(keyNames[k]);
                byte[] value = store.get(keyBytes[k]);
                call.returnedValue(value == null ? null : new String(value, StandardCharsets.UTF_8));
            } else if (roll < GET_PERCENT + PUT_PERCENT) {
                String value = "c" + id + "-" + n;
                History.Call call = recorder.invokePut(keyNames[k], value);
                store.put(keyBytes[k], value.getBytes(StandardCharsets.UTF_8));
                call.returned();
            } else {
                History.Call call = recorder.invokeDelete(keyNames[k]);
                store.delete(keyBytes[k]);
                call.returned();
            }
        }
    }
}
