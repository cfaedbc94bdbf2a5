package org.pdpm.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizeTest {

    @ParameterizedTest
    @CsvSource({
        "1, 1",
        "4096, 4096",
        "7b, 7",
        "1k, 1024",
        "1KB, 1024",
        "2kib, 2048",
        "64m, 67108864",
        "64mb, 67108864",
        "64MiB, 67108864",
        "1g, 1073741824",
        "1gib, 1073741824",
        "3GB, 3221225472",
        "2t, 2199023255552",
        "' 64 m ', 67108864",
        "9223372036854775807, 9223372036854775807",
        "8388607t, 9223370937343148032",
    })
    void parsesNumbersWithUnits(String text, long bytes) {
        assertThat(ByteSize.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", "abc", "m", "0", "0g", "-1", "-64m", "1.5g", "64x", "64 mm", "1e3",
        "9223372036854775808", "8388608t", "99999999999999999999k", "64m1", "+5"})
    void refusesBadSizes(String text) {
        assertThatThrownBy(() -> ByteSize.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size");
    }

    @ParameterizedTest
    @ValueSource(strings = {"١٢m", "６４m"})
    void refusesNonAsciiDigits(String text) {
        assertThatThrownBy(() -> ByteSize.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @org.junit.jupiter.api.Test
    void zeroTurnsOffWhereItMayButOtherBadSizesStillFail() {
        ByteSize.OrZeroConverter orZero = new ByteSize.OrZeroConverter();
        assertThat(orZero.convert("0")).isZero();
        assertThat(orZero.convert(" 0 ")).isZero();
        assertThat(orZero.convert("64m")).isEqualTo(64L << 20);
        assertThatThrownBy(() -> orZero.convert("-1")).isInstanceOf(picocli.CommandLine.TypeConversionException.class);
        assertThatThrownBy(() -> orZero.convert("0g")).isInstanceOf(picocli.CommandLine.TypeConversionException.class);
    }
}
