package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jfree.chart.axis.NumberAxis;
import org.junit.jupiter.api.Test;

class TickSpacingTest {

    @Test
    void integerAxesOfLayerSizes() {
        assertEquals(500, TickSpacing.step(2048, true));      // 341.3 -> 500
        assertEquals(2000, TickSpacing.step(8192, true));     // 1365.3 -> 2000
        assertEquals(25000, TickSpacing.step(128256, true));  // 21376 -> 25000
        assertEquals(20, TickSpacing.step(64, true));         // 10.7 -> 20
        assertEquals(2, TickSpacing.step(10, true));          // 1.67 -> 2 (2.5 is not whole)
        assertEquals(1, TickSpacing.step(3, true));           // 0.5 -> 1
    }

    @Test
    void fractionalAxes() {
        assertEquals(0.02, TickSpacing.step(0.08, false), 1e-12);   // 0.0133 -> 0.02
        assertEquals(0.2, TickSpacing.step(1.2, false), 1e-12);     // 0.2 exactly
        assertEquals(0.25, TickSpacing.step(1.3, false), 1e-12);    // 0.217 -> 0.25
        assertEquals(1, TickSpacing.step(0, false));
    }

    @Test
    void decimalsShowTheStep() {
        assertEquals("0.025", TickSpacing.decimals(0.025).format(0.025));
        assertEquals("500", TickSpacing.decimals(500).format(500));
        assertEquals("0.2", TickSpacing.decimals(0.2).format(0.2));
    }

    @Test
    void appliedUnitTurnsOffJFreeChartsOwnChoice() {
        NumberAxis axis = new NumberAxis("x");
        axis.setRange(0, 2048);
        TickSpacing.apply(axis, true, null);
        assertEquals(500, axis.getTickUnit().getSize());
        assertEquals(false, axis.isAutoTickUnitSelection());
    }
}
