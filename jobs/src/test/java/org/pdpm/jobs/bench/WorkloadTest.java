package org.pdpm.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class WorkloadTest {

    @ParameterizedTest
    @CsvSource({"a, 0.5", "b, 0.05", "c, 0.0", "write-only, 1.0", "WRITE-ONLY, 1.0", "A, 0.5"})
    void mixesAreYcsbs(String label, double updates) {
        Workload w = Workload.of(label);
        SplittableRandom random = new SplittableRandom(11);
        int n = 100_000;
        int updatesDrawn = 0;
        for (int i = 0; i < n; i++) {
            if (w.nextIsUpdate(random)) {
                updatesDrawn++;
            }
        }
        assertThat(w.updateFraction()).isEqualTo(updates);
        assertThat(updatesDrawn / (double) n).isCloseTo(updates, within(0.005));
        if (updates == 0 || updates == 1) {
            assertThat(updatesDrawn / (double) n).isEqualTo(updates);
        }
    }

    @ParameterizedTest
    @EnumSource(Workload.class)
    void labelsRoundTrip(Workload w) {
        assertThat(Workload.of(w.label())).isSameAs(w);
    }

    @Test
    void unknownWorkloadIsNamed() {
        assertThatThrownBy(() -> Workload.of("d")).hasMessageContaining("'d'");
    }
}
