package org.pdpm.core.linearizability;

import java.util.concurrent.locks.LockSupport;
import java.util.random.RandomGenerator;

/**
 * Pauses a client between operations, drawing from the client's seeded generator, so that each seed
 * shakes the interleavings differently: some calls run back to back, some let other threads in.
 */
@FunctionalInterface
public interface DelayInjector {

    void pause(RandomGenerator random);

    static DelayInjector none() {
        return random -> { };
    }

    /**
     * Mostly nothing or a yield, often a short spin, sometimes a park of 10–100 µs — long enough for
     * another client to run a whole operation, rare enough that 500 histories take seconds.
     */
    static DelayInjector mixed() {
        return random -> {
            int roll = random.nextInt(100);
            if (roll < 40) {
                return;
            }
            if (roll < 70) {
                Thread.yield();
            } else if (roll < 95) {
                for (int spins = random.nextInt(2_000); spins > 0; spins--) {
                    Thread.onSpinWait();
                }
            } else {
                LockSupport.parkNanos(random.nextLong(10_000, 100_000));
            }
        };
    }
}
