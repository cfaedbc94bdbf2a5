package org.pdpm.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.pdpm.core.api.Keys.bytes;
import static org.pdpm.core.api.Keys.utf8;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyOrderTest {

    @Test
    void ordersBytesAsUnsignedAndPrefixesFirst() {
        List<byte[]> keys = new ArrayList<>(List.of(bytes(0xFF), bytes(0x80), bytes(0x7F), utf8("ab"), utf8("a"),
                bytes('a', 0), bytes('a', 0xFF), bytes(0x00)));
        keys.sort(KeyOrder.UNSIGNED);
        assertThat(Keys.show(keys)).containsExactly("\\x00", "a", "a\\x00", "ab", "a\\xFF", "\\x7F", "\\x80", "\\xFF");
    }

    @Test
    void prefixEndIncrementsTheLastByteThatIsNotFF() {
        assertThat(KeyOrder.prefixEnd(utf8("ab"))).isEqualTo(utf8("ac"));
        assertThat(KeyOrder.prefixEnd(bytes('a', 0xFF, 0xFF))).isEqualTo(utf8("b"));
        assertThat(KeyOrder.prefixEnd(bytes(0x7F))).isEqualTo(bytes(0x80));
        assertThat(KeyOrder.prefixEnd(bytes(0x00))).isEqualTo(bytes(0x01));
    }

    @Test
    void prefixEndIsNullWhenTheRangeRunsToTheEnd() {
        assertThat(KeyOrder.prefixEnd(new byte[0])).isNull();
        assertThat(KeyOrder.prefixEnd(bytes(0xFF))).isNull();
        assertThat(KeyOrder.prefixEnd(bytes(0xFF, 0xFF, 0xFF))).isNull();
    }

    @Test
    void prefixEndDoesNotModifyItsArgument() {
        byte[] prefix = bytes('a', 0xFF);
        KeyOrder.prefixEnd(prefix);
        assertThat(prefix).isEqualTo(bytes('a', 0xFF));
    }

    /** The range [prefix, prefixEnd) holds exactly the keys that start with the prefix. */
    @Test
    void prefixRangeMatchesHasPrefixOnRandomKeys() {
        Random random = new Random(42);
        int[] alphabet = {0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF};
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] prefix = randomKey(random, alphabet, 3);
            byte[] key = randomKey(random, alphabet, 4);
            byte[] end = KeyOrder.prefixEnd(prefix);
            boolean inRange = KeyOrder.UNSIGNED.compare(key, prefix) >= 0
                    && (end == null || KeyOrder.UNSIGNED.compare(key, end) < 0);
            assertThat(inRange).as("key=%s prefix=%s", Keys.show(key), Keys.show(prefix))
                    .isEqualTo(KeyOrder.hasPrefix(key, prefix));
        }
    }

    @Test
    void hasPrefix() {
        assertThat(KeyOrder.hasPrefix(utf8("abc"), utf8("ab"))).isTrue();
        assertThat(KeyOrder.hasPrefix(utf8("abc"), utf8("abc"))).isTrue();
        assertThat(KeyOrder.hasPrefix(utf8("abc"), new byte[0])).isTrue();
        assertThat(KeyOrder.hasPrefix(utf8("ab"), utf8("abc"))).isFalse();
        assertThat(KeyOrder.hasPrefix(utf8("abd"), utf8("abc"))).isFalse();
    }

    private static byte[] randomKey(Random random, int[] alphabet, int maxLength) {
        byte[] key = new byte[random.nextInt(maxLength + 1)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) alphabet[random.nextInt(alphabet.length)];
        }
        return key;
    }
}
