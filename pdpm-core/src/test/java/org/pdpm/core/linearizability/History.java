package org.pdpm.core.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records what concurrent clients did, for {@link LinearizabilityChecker}. Each client thread gets
 * its own {@link Recorder}, so recording takes no lock: the only shared state is a logical clock,
 * ticked right before a call is invoked and right after it returns. A logical clock rather than
 * {@code System.nanoTime()} because its ticks are distinct and ordered by happens-before, so "A
 * returned before B was invoked" is never an artefact of clock resolution.
 */
public final class History {

    private final AtomicLong clock = new AtomicLong();
    private final List<Recorder> recorders = new ArrayList<>();

    /** The recorder of one client; use it from one thread at a time. */
    public synchronized Recorder recorder(int client) {
        Recorder recorder = new Recorder(client);
        recorders.add(recorder);
        return recorder;
    }

    /**
     * Every call recorded so far, by invocation time; calls that never returned are pending. Call it
     * once the recording threads have finished (joined), which publishes what they recorded.
     */
    public synchronized List<Operation> operations() {
        List<Operation> operations = new ArrayList<>();
        for (Recorder recorder : recorders) {
            for (Call call : recorder.calls) {
                operations.add(call.toOperation(recorder.client));
            }
        }
        operations.sort(Comparator.comparingLong(Operation::invokedAt));
        return operations;
    }

    /** One client's calls. Invoke right before calling the store, return right after it returns. */
    public final class Recorder {

        private final int client;
        private final List<Call> calls = new ArrayList<>();

        private Recorder(int client) {
            this.client = client;
        }

        public Call invokeGet(String key) {
            return invoke(Operation.Kind.GET, key, null);
        }

        public Call invokePut(String key, String value) {
            if (value == null) {
                throw new IllegalArgumentException("a PUT needs a value: key=" + key);
            }
            return invoke(Operation.Kind.PUT, key, value);
        }

        public Call invokeDelete(String key) {
            return invoke(Operation.Kind.DELETE, key, null);
        }

        private Call invoke(Operation.Kind kind, String key, String value) {
            Call call = new Call(kind, key, value, clock.incrementAndGet());
            calls.add(call);
            return call;
        }
    }

    /** A call in flight. If the store throws, leave it unreturned: its outcome is unknown. */
    public final class Call {

        private final Operation.Kind kind;
        private final String key;
        private String value;
        private final long invokedAt;
        private long returnedAt = Operation.PENDING;

        private Call(Operation.Kind kind, String key, String value, long invokedAt) {
            this.kind = kind;
            this.key = key;
            this.value = value;
            this.invokedAt = invokedAt;
        }

        /** A PUT or DELETE returned. */
        public void returned() {
            long now = clock.incrementAndGet();
            if (kind == Operation.Kind.GET) {
                throw new IllegalStateException("a GET returns a value: key=" + key);
            }
            markReturned(now);
        }

        /** A GET returned {@code observed}, null when the key was absent. */
        public void returnedValue(String observed) {
            long now = clock.incrementAndGet();
            if (kind != Operation.Kind.GET) {
                throw new IllegalStateException("only a GET returns a value: kind=" + kind + " key=" + key);
            }
            markReturned(now);
            value = observed;
        }

        private void markReturned(long now) {
            if (returnedAt != Operation.PENDING) {
                throw new IllegalStateException("call already returned: key=" + key + " returnedAt=" + returnedAt);
            }
            returnedAt = now;
        }

        private Operation toOperation(int client) {
            return new Operation(client, kind, key, value, invokedAt, returnedAt);
        }
    }
}
