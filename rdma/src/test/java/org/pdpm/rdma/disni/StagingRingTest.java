package org.pdpm.rdma.disni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StagingRingTest {

    @Test
    void slicesFollowEachOtherAndComeBackInOrder() {
        StagingRing ring = new StagingRing(100);
        assertThat(ring.reserve(40)).isEqualTo(0);
        assertThat(ring.reserve(40)).isEqualTo(40);
        assertThat(ring.reserve(40)).as("only 20 left at the end, none at the start").isEqualTo(-1);
        ring.release(0, 40);
        assertThat(ring.reserve(40)).as("wraps to the freed start").isEqualTo(0);
        assertThat(ring.reserve(1)).as("the head has reached the live slice").isEqualTo(-1);
        ring.release(40, 40);
        assertThat(ring.reserve(60)).isEqualTo(40);
        ring.release(0, 40);
        ring.release(40, 60);
        assertThat(ring.outstanding()).isZero();
    }

    @Test
    void anEmptyRingTakesItsWholeCapacityAndNoMore() {
        StagingRing ring = new StagingRing(64);
        assertThat(ring.reserve(64)).isEqualTo(0);
        assertThat(ring.reserve(0)).isEqualTo(64);
        ring.release(0, 64);
        ring.release(64, 0);
        assertThat(ring.reserve(64)).as("an empty ring starts over at 0").isEqualTo(0);
        assertThatThrownBy(() -> ring.reserve(65)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StagingRing(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void releasingWithNothingOutstandingIsAnError() {
        assertThatThrownBy(() -> new StagingRing(8).release(0, 8)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void liveSlicesNeverOverlapUnderARandomFifoWorkload() {
        StagingRing ring = new StagingRing(1000);
        ArrayDeque<int[]> live = new ArrayDeque<>();
        Random random = new Random(42);
        for (int step = 0; step < 100_000; step++) {
            if (!live.isEmpty() && (random.nextInt(3) == 0 || live.size() > 20)) {
                int[] oldest = live.poll();
                ring.release(oldest[0], oldest[1]);
                continue;
            }
            int bytes = random.nextInt(300);
            int start = ring.reserve(bytes);
            if (start < 0) {
                continue;
            }
            assertThat(start + bytes).isLessThanOrEqualTo(1000);
            for (int[] s : live) {
                boolean disjoint = start + bytes <= s[0] || s[0] + s[1] <= start || bytes == 0 || s[1] == 0;
                assertThat(disjoint).as("slice [%d,+%d) overlaps [%d,+%d)", start, bytes, s[0], s[1]).isTrue();
            }
            live.add(new int[] {start, bytes});
        }
        assertThat(ring.outstanding()).isEqualTo(live.size());
    }
}
