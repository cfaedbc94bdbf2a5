package org.pdpm.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void writesNestedObjectsInOrder() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("cores", 8);
        inner.put("ok", true);
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("fabric", "tcp");
        outer.put("machine", inner);
        outer.put("p50", 31.25);
        outer.put("rate", 123456789L);
        outer.put("none", null);
        assertThat(Json.write(outer))
                .isEqualTo("{\"fabric\":\"tcp\",\"machine\":{\"cores\":8,\"ok\":true},\"p50\":31.25,"
                        + "\"rate\":123456789,\"none\":null}");
    }

    @Test
    void escapesStrings() {
        assertThat(Json.write(Map.of("s", "a\"b\\c\nd\te\u0001f\u2028")))
                .isEqualTo("{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001f\\u2028\"}");
    }

    @Test
    void refusesWhatJsonCannotSay() {
        assertThatThrownBy(() -> Json.write(Map.of("x", Double.NaN))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.write(Map.of("x", List.of(1)))).isInstanceOf(IllegalArgumentException.class);
    }
}
