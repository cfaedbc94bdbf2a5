package org.pdpm.core.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.KvCursor;
import org.pdpm.core.api.KvSnapshot;
import org.pdpm.core.api.LineageStore;

/**
 * A writer stopped after each store operation of preserving writes (copy the old record, then
 * overwrite it), for every operation in turn: a fresh client then reads every pinned point exactly
 * as before, the head holds the old or the new value of each key, and a new writer carries on.
 * Budget: under 2 s per store (a fresh pool per crash point).
 */
abstract class LineageCrashPointTest {

    private static final int KEYS = 5;

    abstract LineagePool newPool();

    private static byte[] key(int i) {
        return LineageContractTest.key(i);
    }

    /** The writes that the stopped writer makes in epoch 3; each needs the record of epoch 1 or 2 preserved. */
    private static void epochThree(LineageStore s) {
        s.put(key(0), LineageContractTest.bytes("three"));
        s.delete(key(1));
        s.put(key(2), LineageContractTest.bytes("three"));
        s.put(key(4), LineageContractTest.bytes("three"));
    }

    @Test
    void everyPinnedPointSurvivesAWriterStoppedAfterAnyOperation() {
        boolean completed = false;
        for (int stopAfter = 0; !completed; stopAfter++) {
            assertThat(stopAfter).as("the writes of epoch three end within 40 operations").isLessThan(40);
            try (LineagePool pool = newPool()) {
                StoreLineages lineages = StoreLineages.over(pool.client());
                int root = lineages.createLineage();
                LineageStore setup = lineages.open(root, 1);
                for (int i = 0; i < KEYS - 1; i++) {
                    setup.put(key(i), LineageContractTest.bytes("one"));
                }
                lineages.pin(root, 1, "cp-1");
                setup.advanceEpoch(2);
                setup.put(key(0), LineageContractTest.bytes("two"));
                setup.delete(key(2));
                lineages.pin(root, 2, "cp-2");
                setup.close();
                Map<String, List<String>> before = pinnedViews(lineages, root);

                StoppingStore stopping = new StoppingStore(pool.client());
                LineageStore writer = StoreLineages.over(stopping).open(root, 3);
                stopping.arm(stopAfter);
                try {
                    epochThree(writer);
                    completed = true;
                } catch (StoppingStore.Stopped expected) {
                    // the writer died here; what follows is what a new process finds
                }

                StoreLineages fresh = StoreLineages.over(pool.client());
                assertThat(pinnedViews(fresh, root)).as("pinned points after a stop after operation %d", stopAfter)
                        .isEqualTo(before);
                LineageStore head = fresh.open(root, 3);
                assertThat(LineageContractTest.text(head.get(key(0)))).isIn("two", "three");
                assertThat(LineageContractTest.text(head.get(key(1)))).isIn("one", null);
                assertThat(LineageContractTest.text(head.get(key(2)))).isIn(null, "three");
                assertThat(LineageContractTest.text(head.get(key(4)))).isIn(null, "three");
                epochThree(head);
                assertThat(pinnedViews(fresh, root)).as("after a new writer redid epoch three").isEqualTo(before);
                fresh.unpin(root, 1, "cp-1");
                fresh.unpin(root, 2, "cp-2");
                assertThatThrownBy(() -> head.asOf(root, 2)).hasMessageContaining("not pinned");
                assertThat(LineageContractTest.text(head.get(key(0)))).isEqualTo("three");
            }
        }
    }

    /** What each pinned point reads, key by key and by a scan. */
    private static Map<String, List<String>> pinnedViews(StoreLineages lineages, int root) {
        Map<String, List<String>> views = new LinkedHashMap<>();
        try (LineageStore reader = readerOf(lineages)) {
            for (long epoch : new long[] {1, 2}) {
                KvSnapshot at = reader.asOf(root, epoch);
                List<String> seen = new ArrayList<>();
                for (int i = 0; i < KEYS; i++) {
                    seen.add(LineageContractTest.text(at.get(key(i))));
                }
                try (KvCursor c = at.scan(LineageContractTest.bytes("k/"))) {
                    c.forEachRemaining(e -> seen.add(LineageContractTest.text(e.key()) + "="
                            + LineageContractTest.text(e.value())));
                }
                views.put("epoch " + epoch, seen);
            }
        }
        return views;
    }

    /** A client that only reads; any lineage's client reads any pinned point. */
    private static LineageStore readerOf(StoreLineages lineages) {
        return lineages.open(lineages.createLineage(), 0);
    }
}
