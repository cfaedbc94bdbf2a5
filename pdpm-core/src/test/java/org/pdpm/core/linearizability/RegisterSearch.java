package org.pdpm.core.linearizability;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Wing and Gong's search for a linearization of one key's operations against a register (a value
 * or absent), with Lowe's memoization as Porcupine does it: a (set of linearized operations, register
 * value) pair reached once is never explored again, which turns the exponential search into one
 * bounded by the number of distinct pairs — small when few calls overlap.
 *
 * <p>The history is a doubly linked list of call and return events in time order. The search walks
 * it: at a call it tries to linearize that operation now (lifting its call and return out of the
 * list); at a return of an operation not yet linearized it has gone too far and backtracks. A pending
 * operation's return is at the end of time, so it may be linearized anywhere after its call — last
 * of all being the same as never, since nothing observes it after.
 */
final class RegisterSearch {

    enum Outcome { LINEARIZABLE, NOT_LINEARIZABLE, GAVE_UP }

    private static final int ABSENT = 0;
    private static final int REJECTED = -1;
    private static final int NIL = -1;

    private final Operation[] operations;
    /** Per operation, the id of the value it writes (PUT), observes (GET) or leaves (DELETE: absent). */
    private final int[] valueIds;
    // The event list: events 0..n-1 are calls of operations 0..n-1, n..2n-1 their returns, 2n the head.
    private final int[] next;
    private final int[] prev;
    private final int head;

    private RegisterSearch(List<Operation> keyOperations) {
        operations = keyOperations.toArray(Operation[]::new);
        int n = operations.length;
        valueIds = new int[n];
        Map<String, Integer> ids = new HashMap<>();
        for (int op = 0; op < n; op++) {
            String value = operations[op].value();
            valueIds[op] = value == null ? ABSENT : ids.computeIfAbsent(value, v -> ids.size() + 1);
        }
        head = 2 * n;
        next = new int[2 * n + 1];
        prev = new int[2 * n + 1];
        int last = head;
        for (int event : eventsInTimeOrder()) {
            next[last] = event;
            prev[event] = last;
            last = event;
        }
        next[last] = NIL;
    }

    /** Searches at most {@code maxSteps} events before giving up. */
    static Outcome search(List<Operation> keyOperations, long maxSteps) {
        return new RegisterSearch(keyOperations).run(maxSteps);
    }

    private Integer[] eventsInTimeOrder() {
        Integer[] events = new Integer[head];
        Arrays.setAll(events, e -> e);
        // At equal times calls go first, so touching intervals count as overlapping.
        Arrays.sort(events, (a, b) -> {
            int byTime = Long.compare(time(a), time(b));
            return byTime != 0 ? byTime : Boolean.compare(!isCall(a), !isCall(b));
        });
        return events;
    }

    private long time(int event) {
        return isCall(event) ? operations[event].invokedAt() : operations[event - operations.length].returnedAt();
    }

    private boolean isCall(int event) {
        return event < operations.length;
    }

    private Outcome run(long maxSteps) {
        int n = operations.length;
        BitSet linearized = new BitSet(n);
        Set<Visited> visited = new HashSet<>();
        int[] stackCalls = new int[n];
        int[] stackValues = new int[n];
        int depth = 0;
        int value = ABSENT;
        int event = next[head];
        long steps = 0;
        while (next[head] != NIL) {
            if (++steps > maxSteps) {
                return Outcome.GAVE_UP;
            }
            if (isCall(event)) {
                int after = apply(value, event);
                if (after != REJECTED) {
                    linearized.set(event);
                    if (visited.add(new Visited((BitSet) linearized.clone(), after))) {
                        stackCalls[depth] = event;
                        stackValues[depth] = value;
                        depth++;
                        value = after;
                        lift(event);
                        event = next[head];
                        continue;
                    }
                    linearized.clear(event);
                }
                event = next[event];
            } else {
                if (depth == 0) {
                    return Outcome.NOT_LINEARIZABLE;
                }
                depth--;
                event = stackCalls[depth];
                value = stackValues[depth];
                linearized.clear(event);
                unlift(event);
                event = next[event];
            }
        }
        return Outcome.LINEARIZABLE;
    }

    /** The register after operation {@code op} on {@code value}, or REJECTED if a GET saw otherwise. */
    private int apply(int value, int op) {
        return switch (operations[op].kind()) {
            case GET -> valueIds[op] == value ? value : REJECTED;
            case PUT -> valueIds[op];
            case DELETE -> ABSENT;
        };
    }

    /** Takes a call and its return out of the list; a call always has its return after it. */
    private void lift(int call) {
        next[prev[call]] = next[call];
        prev[next[call]] = prev[call];
        int ret = call + operations.length;
        next[prev[ret]] = next[ret];
        if (next[ret] != NIL) {
            prev[next[ret]] = prev[ret];
        }
    }

    /** Undoes {@link #lift}, return first, so the links are restored as they were. */
    private void unlift(int call) {
        int ret = call + operations.length;
        next[prev[ret]] = ret;
        if (next[ret] != NIL) {
            prev[next[ret]] = ret;
        }
        next[prev[call]] = call;
        prev[next[call]] = call;
    }

    private record Visited(BitSet linearized, int value) {}
}
