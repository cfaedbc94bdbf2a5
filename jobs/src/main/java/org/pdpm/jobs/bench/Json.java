package org.pdpm.jobs.bench;

import java.util.Map;

/**
 * Writes one JSON object on one line: the benchmark's output format. Values may be strings,
 * numbers, booleans, null and nested maps with string keys; map order is kept.
 */
public final class Json {

    private Json() {}

    public static String write(Map<String, ?> object) {
        StringBuilder sb = new StringBuilder(256);
        writeObject(sb, object);
        return sb.toString();
    }

    private static void writeObject(StringBuilder sb, Map<?, ?> object) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : object.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new IllegalArgumentException("key=" + e.getKey() + " is not a string");
            }
            if (!first) {
                sb.append(',');
            }
            first = false;
            writeString(sb, key);
            sb.append(':');
            writeValue(sb, e.getValue());
        }
        sb.append('}');
    }

    private static void writeValue(StringBuilder sb, Object value) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof CharSequence s) {
            writeString(sb, s);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("value=" + d + " has no JSON form");
            }
            sb.append(d);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                || value instanceof Byte) {
            sb.append(((Number) value).longValue());
        } else if (value instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (value instanceof Map<?, ?> m) {
            writeObject(sb, m);
        } else {
            throw new IllegalArgumentException("value of type " + value.getClass().getName() + " has no JSON form here");
        }
    }

    private static void writeString(StringBuilder sb, CharSequence s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        // Control characters must be escaped; the line separators would break JSON lines in JS.
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
