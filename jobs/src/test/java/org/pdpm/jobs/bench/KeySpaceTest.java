package org.pdpm.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeySpaceTest {

    @Test
    void keysHaveOneLengthAndOrderByIndex() {
        byte[] key = KeySpace.newKey();
        assertThat(new String(KeySpace.write(42, key), StandardCharsets.US_ASCII)).isEqualTo("user0000000042");
        assertThat(new String(KeySpace.write(KeySpace.MAX_KEYS - 1, key), StandardCharsets.US_ASCII))
                .isEqualTo("user9999999999");
        assertThat(key).hasSize(KeySpace.KEY_BYTES);
        assertThatThrownBy(() -> KeySpace.write(KeySpace.MAX_KEYS, key)).hasMessageContaining("index=");
        assertThatThrownBy(() -> KeySpace.write(-1, key)).hasMessageContaining("index=-1");
    }
}
