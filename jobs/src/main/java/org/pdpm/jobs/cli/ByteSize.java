package org.pdpm.jobs.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes on the command line: a positive whole number with an optional unit, case-insensitive:
 * {@code b}; {@code k}, {@code kb}, {@code kib}; {@code m}, {@code mb}, {@code mib}; {@code g},
 * {@code gb}, {@code gib}; {@code t}, {@code tb}, {@code tib}. Every unit is a power of 1024, as in
 * Flink's {@code MemorySize}, so {@code 64mb} and {@code 64mib} both mean 64 × 2^20 bytes.
 */
public final class ByteSize {

    private static final String[][] UNITS = {
        {"b"},
        {"k", "kb", "kib"},
        {"m", "mb", "mib"},
        {"g", "gb", "gib"},
        {"t", "tb", "tib"},
    };

    private ByteSize() {}

    /** The number of bytes {@code text} names; {@link IllegalArgumentException} saying why not. */
    public static long parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("size is empty; give bytes or a number with a unit such as 64m or 1g");
        }
        String s = text.trim().toLowerCase(Locale.ROOT);
        int digits = 0;
        while (digits < s.length() && s.charAt(digits) >= '0' && s.charAt(digits) <= '9') {
            digits++;
        }
        if (digits == 0) {
            throw new IllegalArgumentException("size='" + text + "' does not start with a whole number");
        }
        String unit = s.substring(digits).trim();
        int shift = shiftOf(unit);
        if (shift < 0) {
            throw new IllegalArgumentException("size='" + text + "' has an unknown unit '" + unit
                    + "' (use b, k, kb, kib, m, mb, mib, g, gb, gib, t, tb or tib)");
        }
        long number;
        try {
            number = Long.parseLong(s.substring(0, digits));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size='" + text + "' is too large");
        }
        if (number == 0) {
            throw new IllegalArgumentException("size='" + text + "' must be positive");
        }
        if (number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size='" + text + "' is too large");
        }
        return number << shift;
    }

    private static int shiftOf(String unit) {
        if (unit.isEmpty()) {
            return 0;
        }
        for (int power = 0; power < UNITS.length; power++) {
            for (String name : UNITS[power]) {
                if (name.equals(unit)) {
                    return 10 * power;
                }
            }
        }
        return -1;
    }

    /** Lets picocli report a bad size as a usage error naming the option. */
    public static final class Converter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** As {@link Converter}, and {@code 0} too: for sizes where 0 turns something off. */
    public static final class OrZeroConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return value != null && value.trim().equals("0") ? 0L : new Converter().convert(value);
        }
    }
}
