package io.layerscope.plot;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;

/**
 * Formats powers of ten with Unicode superscripts ("10⁻³") as plain text. Two uses: axes that run in
 * log10 units (the colour bar of a log-scaled heatmap, where JFreeChart's {@code LogAxis} cannot be
 * used) format the exponent {@code k}; {@code LogAxis} itself formats the value {@code 10^k}, because
 * its own superscript labels are placed as if the exponent had no width and collide with the tick
 * marks. Non-integer exponents fall back to two decimals ("10^-2.50").
 */
final class PowerOfTenFormat extends NumberFormat {
    private static final long serialVersionUID = 1L;
    private final boolean valuesAreExponents;

    private PowerOfTenFormat(boolean valuesAreExponents) {
        this.valuesAreExponents = valuesAreExponents;
    }

    /** Formats {@code k} as 10 to the k-th. */
    static PowerOfTenFormat ofExponents() {
        return new PowerOfTenFormat(true);
    }

    /** Formats {@code v} as 10 to the {@code log10(v)}-th. */
    static PowerOfTenFormat ofValues() {
        return new PowerOfTenFormat(false);
    }
    private static final char[] SUPERSCRIPT_DIGITS = {
        '\u2070', '\u00b9', '\u00b2', '\u00b3', '\u2074', '\u2075', '\u2076', '\u2077', '\u2078', '\u2079'};
    private static final char SUPERSCRIPT_MINUS = '\u207b';

    @Override
    public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
        double exponent = valuesAreExponents ? number : Math.log10(number);
        long k = Math.round(exponent);
        if (Math.abs(exponent - k) > 1e-9) {
            return to.append(String.format(java.util.Locale.ROOT, "10^%.2f", exponent));
        }
        to.append("10");
        if (k < 0) {
            to.append(SUPERSCRIPT_MINUS);
        }
        for (char d : Long.toString(Math.abs(k)).toCharArray()) {
            to.append(SUPERSCRIPT_DIGITS[d - '0']);
        }
        return to;
    }

    @Override
    public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
        return format((double) number, to, pos);
    }

    @Override
    public Number parse(String source, ParsePosition pos) {
        throw new UnsupportedOperationException("tick labels are only formatted");
    }
}
