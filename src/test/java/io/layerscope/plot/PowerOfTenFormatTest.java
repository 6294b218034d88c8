package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PowerOfTenFormatTest {
    private final PowerOfTenFormat format = PowerOfTenFormat.ofExponents();

    @Test
    void wholeExponentsAsSuperscripts() {
        assertEquals("10\u207b\u00b3", format.format(-3.0));
        assertEquals("10\u2070", format.format(0.0));
        assertEquals("10\u00b9\u00b2", format.format(12.0));
        assertEquals("10\u207b\u2074", format.format(-4L));
    }

    @Test
    void valuesAreFormattedByTheirExponent() {
        PowerOfTenFormat values = PowerOfTenFormat.ofValues();
        assertEquals("10\u207b\u00b3", values.format(Math.pow(10, -3)));
        assertEquals("10\u00b2", values.format(100.0));
        assertEquals("10\u2070", values.format(1L));
    }

    @Test
    void otherExponentsWithTwoDecimals() {
        assertEquals("10^-2.50", format.format(-2.5));
    }
}
