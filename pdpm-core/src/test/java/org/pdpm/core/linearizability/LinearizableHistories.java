package org.pdpm.core.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates histories that are linearizable by construction: each client runs calls one after
 * another, each call takes effect at a point drawn inside its interval, and every GET returns what a
 * register holds at its point. Some writes are left pending; half of those never take effect.
 */
final class LinearizableHistories {

    private LinearizableHistories() {
    }

    static List<Operation> generate(long seed, int clients, int keys, int operationsPerClient) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Planned> planned = new ArrayList<>();
        for (int client = 0; client < clients; client++) {
            long time = 0;
            for (int n = 0; n < operationsPerClient; n++) {
                long invokedAt = time + random.nextInt(3);
                long effectAt = invokedAt + random.nextInt(4);
                long returnedAt = effectAt + random.nextInt(4);
                time = returnedAt + 1;
                planned.add(new Planned(client, n, "k" + random.nextInt(keys), random.nextInt(100),
                        random.nextInt(100) < 3, random.nextBoolean(), invokedAt, effectAt, returnedAt));
            }
        }
        planned.sort(Comparator.comparingLong(Planned::effectAt).thenComparingInt(Planned::client));
        Map<String, String> register = new HashMap<>();
        List<Operation> history = new ArrayList<>();
        for (Planned call : planned) {
            history.add(call.applyTo(register));
        }
        return history;
    }

    private record Planned(int client, int n, String key, int roll, boolean pending, boolean takesEffect,
                           long invokedAt, long effectAt, long returnedAt) {

        Operation applyTo(Map<String, String> register) {
            if (roll < 50) {
                return Operation.get(client, key, register.get(key), invokedAt, returnedAt);
            }
            boolean effective = !pending || takesEffect;
            long end = pending ? Operation.PENDING : returnedAt;
            if (roll < 85) {
                String value = "c" + client + "-" + n;
                if (effective) {
                    register.put(key, value);
                }
                return Operation.put(client, key, value, invokedAt, end);
            }
            if (effective) {
                register.remove(key);
            }
            return Operation.delete(client, key, invokedAt, end);
        }
    }
}
