package org.pdpm.core.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Building keys and printing them readably in assertion messages. */
public final class Keys {

    private Keys() {
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A key from unsigned byte values, so tests can write 0x80 and 0xFF without casts. */
    public static byte[] bytes(int... unsigned) {
        byte[] out = new byte[unsigned.length];
        for (int i = 0; i < unsigned.length; i++) {
            if (unsigned[i] < 0 || unsigned[i] > 0xFF) {
                throw new IllegalArgumentException("byte=" + unsigned[i] + " is outside 0..255");
            }
            out[i] = (byte) unsigned[i];
        }
        return out;
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * Printable ASCII as itself, every other byte as {@code \xNN}; distinct keys print distinctly,
     * so lists of them compare and diff well in AssertJ messages.
     */
    public static String show(byte[] key) {
        if (key == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(key.length);
        for (byte b : key) {
            int u = b & 0xFF;
            if (u >= 0x20 && u < 0x7F && u != '\\') {
                sb.append((char) u);
            } else {
                sb.append(String.format("\\x%02X", u));
            }
        }
        return sb.toString();
    }

    public static List<String> show(List<byte[]> keys) {
        List<String> out = new ArrayList<>(keys.size());
        for (byte[] k : keys) {
            out.add(show(k));
        }
        return out;
    }
}
