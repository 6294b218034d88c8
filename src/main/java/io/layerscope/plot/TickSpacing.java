package io.layerscope.plot;

import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.text.NumberFormat;
import java.util.Locale;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;

/**
 * Picks a "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about {@value #TARGET_TICKS}
 * ticks, as matplotlib's locator does; JFreeChart's own choice packs as many labels as fit, which
 * crowds an axis.
 */
final class TickSpacing {
    static final int TARGET_TICKS = 6;
    private static final double[] MANTISSAS = {1, 2, 2.5, 5, 10};

    private TickSpacing() {
    }

    /** The smallest nice step of at least {@code range / TARGET_TICKS}; whole numbers when {@code integer}. */
    static double step(double range, boolean integer) {
        double raw = range / TARGET_TICKS;
        if (!(raw > 0)) {
            return 1;
        }
        double decade = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : MANTISSAS) {
            double step = m * decade;
            if (step >= raw * (1 - 1e-9) && (!integer || (step >= 1 && step == Math.rint(step)))) {
                return step;
            }
        }
        return integer ? Math.max(1, 10 * decade) : 10 * decade;
    }

    /** Fixes {@code axis} to nice ticks over its current range, labelled with {@code format} or decimals as needed. */
    static void apply(NumberAxis axis, boolean integer, NumberFormat format) {
        double step = step(axis.getRange().getLength(), integer);
        axis.setTickUnit(new NumberTickUnit(step, format != null ? format : decimals(step)), false, true);
    }

    /** Just enough decimals to tell ticks {@code step} apart ("0.025" for 0.025, "500" for 500). */
    static NumberFormat decimals(double step) {
        int places = 0;
        while (places < 12 && Math.abs(step * Math.pow(10, places) - Math.rint(step * Math.pow(10, places))) > 1e-6) {
            places++;
        }
        return new DecimalFormat(places == 0 ? "0" : "0." + "0".repeat(places), DecimalFormatSymbols.getInstance(Locale.ROOT));
    }
}
