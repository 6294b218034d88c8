package io.layerscope.plot;

import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;

/**
 * Formats an exponent {@code k} as {@code 10^k} with Unicode superscripts ("10⁻³"), for axes that
 * run in log10 units (the colour bar of a log-scaled heatmap) where JFreeChart's {@code LogAxis}
 * cannot be used. Non-integer exponents fall back to two decimals ("10^-2.50").
 */
final class PowerOfTenFormat extends NumberFormat {
    private static final long serialVersionUID = 1L;
    private static final char[] SUPERSCRIPT_DIGITS = {
        '\u2070', '\u00b9', '\u00b2', '\u00b3', '\u2074', '\u2075', '\u2076', '\u2077', '\u2078', '\u2079'};
    private static final char SUPERSCRIPT_MINUS = '\u207b';

    @Override
    public StringBuffer format(double exponent, StringBuffer to, FieldPosition pos) {
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
    public StringBuffer format(long exponent, StringBuffer to, FieldPosition pos) {
        return format((double) exponent, to, pos);
    }

    @Override
    public Number parse(String source, ParsePosition pos) {
        throw new UnsupportedOperationException("tick labels are only formatted");
    }
}
