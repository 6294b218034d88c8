package io.layerscope.stats;

import java.io.Serializable;
import java.util.Comparator;

/**
 * One entry of a hidden state: its absolute value and where it is (global calibration sample,
 * token position, channel). Peaks order by value, largest first, then by (sample, position,
 * channel) ascending, so a maximum or a top-k over any split of the samples picks the same entries.
 */
public record Peak(float abs, int sample, int position, int channel) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Largest first; equal values by the lowest (sample, position, channel). */
    public static final Comparator<Peak> ORDER = Comparator.comparing(Peak::abs, Comparator.reverseOrder())
            .thenComparingInt(Peak::sample).thenComparingInt(Peak::position).thenComparingInt(Peak::channel);

    /** The one of a and b that comes first in {@link #ORDER}; null counts as absent. */
    public static Peak first(Peak a, Peak b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return ORDER.compare(a, b) <= 0 ? a : b;
    }

    /** Whether both peaks are on the same token (sample and position). */
    public boolean sameToken(Peak other) {
        return other != null && sample == other.sample && position == other.position;
    }
}
