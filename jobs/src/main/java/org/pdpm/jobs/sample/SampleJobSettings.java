package org.pdpm.jobs.sample;

import java.io.Serializable;

/**
 * What the sample job computes (events, users, items, seed, window size) and how it runs
 * (parallelism of the keyed operators, an optional input rate cap). The expected result depends
 * only on the first five.
 *
 * @param eventsPerSecond cap on the input rate, 0 for as fast as the job goes; a cap keeps a small
 *     run long enough for checkpoints and a failure to happen midway
 */
public record SampleJobSettings(
        long events, int users, int items, long seed, long windowMillis, int parallelism, long eventsPerSecond)
        implements Serializable {

    public static final long DEFAULT_SEED = 20200715L;
    public static final int DEFAULT_USERS = 2_000;
    public static final int DEFAULT_ITEMS = 50;
    public static final long DEFAULT_WINDOW_MILLIS = 60_000;

    public SampleJobSettings {
        if (events < 1) {
            throw new IllegalArgumentException("events=" + events + " must be positive");
        }
        if (users < 1) {
            throw new IllegalArgumentException("users=" + users + " must be positive");
        }
        if (items < 1) {
            throw new IllegalArgumentException("items=" + items + " must be positive");
        }
        if ((long) users * items > ExpectedResults.MAX_USER_ITEM_PAIRS) {
            throw new IllegalArgumentException("users*items=" + (long) users * items + " exceeds "
                    + ExpectedResults.MAX_USER_ITEM_PAIRS + " (users=" + users + ", items=" + items + ")");
        }
        if (windowMillis < 1) {
            throw new IllegalArgumentException("windowMillis=" + windowMillis + " must be positive");
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism=" + parallelism + " must be positive");
        }
        if (eventsPerSecond < 0) {
            throw new IllegalArgumentException("eventsPerSecond=" + eventsPerSecond + " must not be negative");
        }
    }

    public static SampleJobSettings of(long events, int parallelism) {
        return new SampleJobSettings(events, DEFAULT_USERS, DEFAULT_ITEMS, DEFAULT_SEED, DEFAULT_WINDOW_MILLIS,
                parallelism, 0);
    }

    public SampleJobSettings withUsers(int newUsers) {
        return new SampleJobSettings(events, newUsers, items, seed, windowMillis, parallelism, eventsPerSecond);
    }

    public SampleJobSettings withSeed(long newSeed) {
        return new SampleJobSettings(events, users, items, newSeed, windowMillis, parallelism, eventsPerSecond);
    }

    public SampleJobSettings withParallelism(int newParallelism) {
        return new SampleJobSettings(events, users, items, seed, windowMillis, newParallelism, eventsPerSecond);
    }

    public SampleJobSettings withEventsPerSecond(long rate) {
        return new SampleJobSettings(events, users, items, seed, windowMillis, parallelism, rate);
    }

    PurchaseGenerator generator() {
        return new PurchaseGenerator(seed, users, items);
    }
}
