package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.pdpm.core.api.StoreUnavailableException;
import org.pdpm.rdma.local.LocalFabric;

/**
 * With R = 2, every acknowledged version and link is on both nodes of its group, so reads go on
 * from the backup when the primary dies. Writes need a membership change, which the metadata
 * server does not make yet: they fail clearly instead of diverging.
 */
class CloverReplicaReadTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsOfAcknowledgedWritesSurviveThePrimarysDeath() {
        try (LocalPool pool = new LocalPool(2, 2, 8 << 20)) {
            CloverStore writer = pool.client();
            CloverStore reader = pool.client();
            for (int i = 0; i < 200; i++) {
                writer.put(b("k" + i), b("v" + i));
            }
            for (int i = 0; i < 200; i += 2) {
                writer.put(b("k" + i), b("w" + i));
            }
            for (int i = 0; i < 200; i += 3) {
                assertThat(reader.get(b("k" + i))).isNotNull();   // warms some cursors
            }
            ((LocalFabric) pool.fabric).removeNode(pool.nodes.get(0));
            for (int i = 0; i < 200; i++) {
                assertThat(reader.get(b("k" + i))).as("k%d", i).isEqualTo(b((i % 2 == 0 ? "w" : "v") + i));
                assertThat(writer.get(b("k" + i))).as("k%d", i).isEqualTo(b((i % 2 == 0 ? "w" : "v") + i));
            }
            assertThatThrownBy(() -> writer.put(b("k1"), b("after")))
                    .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("failed");
            assertThat(reader.get(b("k1"))).isEqualTo(b("v1"));
        }
    }
}
