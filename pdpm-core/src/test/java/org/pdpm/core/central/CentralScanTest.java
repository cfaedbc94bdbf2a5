package org.pdpm.core.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvEntry;
import org.pdpm.core.api.KvStats;

/**
 * Prefix scans read a page of slots in one round trip without locks; a slot written, deleted or
 * reused meanwhile is read again under its key's lock. Scans racing writers that overwrite, delete
 * and re-create keys (so slots change owners) must return keys in order, values that name their
 * key, and every key that stays put. Budget: about 5 s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CentralScanTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void scansRacingOverwritesDeletesAndSlotReuseSeeOnlyWholeValuesOfTheirKeys() throws Exception {
        try (CentralPool pool = new CentralPool(2, 2, 4 << 20)) {
            CentralStore store = pool.client();
            for (int i = 0; i < 300; i++) {
                store.put(b(String.format("s/stable/%03d", i)), b(String.format("s/stable/%03d=0", i)));
            }
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService threads = Executors.newFixedThreadPool(4);
            List<Future<?>> writers = new ArrayList<>();
            try {
                for (int t = 0; t < 3; t++) {
                    int seed = t;
                    writers.add(threads.submit(() -> {
                        Random random = new Random(seed);
                        CentralStore w = pool.client();
                        int n = 0;
                        while (!stop.get()) {
                            String key = String.format("s/churn/%03d", random.nextInt(200));
                            if (random.nextInt(3) == 0) {
                                w.delete(b(key));
                            } else {
                                w.put(b(key), b(key + "=" + (n++) + "x".repeat(random.nextInt(300))));
                            }
                            String stable = String.format("s/stable/%03d", random.nextInt(300));
                            w.put(b(stable), b(stable + "=" + (n++)));
                        }
                        return null;
                    }));
                }
                int scans = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < deadline || scans < 20) {
                    List<KvEntry> entries = new ArrayList<>();
                    try (KvCursor c = store.scan(b("s/"))) {
                        while (c.hasNext()) {
                            entries.add(c.next());
                        }
                    }
                    int stable = 0;
                    for (int i = 0; i < entries.size(); i++) {
                        String key = new String(entries.get(i).key(), StandardCharsets.UTF_8);
                        String value = new String(entries.get(i).value(), StandardCharsets.UTF_8);
                        assertThat(value).as("scan %d", scans).startsWith(key + "=");
                        if (i > 0) {
                            assertThat(Arrays.compareUnsigned(entries.get(i - 1).key(), entries.get(i).key()))
                                    .as("keys in order").isNegative();
                        }
                        if (key.startsWith("s/stable/")) {
                            stable++;
                        }
                    }
                    assertThat(stable).as("keys never deleted are always seen").isEqualTo(300);
                    scans++;
                }
                stop.set(true);
                for (Future<?> f : writers) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                stop.set(true);
                threads.shutdownNow();
            }
            KvStats before = store.stats();
            try (KvCursor c = store.scan(b("s/stable/"))) {
                int n = 0;
                while (c.hasNext()) {
                    c.next();
                    n++;
                }
                assertThat(n).isEqualTo(300);
            }
            assertThat(store.stats().minus(before).verbs()).as("two pages of READs, no per-key retries when quiet")
                    .isEqualTo(300);
        }
    }
}
