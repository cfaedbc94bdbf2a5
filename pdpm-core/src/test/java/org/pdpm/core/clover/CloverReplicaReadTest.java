package org.pdpm.core.clover;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.pdpm.rdma.local.LocalFabric;

/**
 * With R = 2, every acknowledged version and link is on both nodes of its group, so reads go on
 * from the backup when the primary dies, through warm and cold cursors alike; once the metadata
 * server has taken the primary out, the backup takes the commits.
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
            // The server has taken the dead primary out: its backup now takes the commits.
            assertThat(pool.metadata.membership().outNodes()).containsExactly(0);
            writer.put(b("k1"), b("after"));
            assertThat(reader.get(b("k1"))).isEqualTo(b("after"));
        }
    }
}
