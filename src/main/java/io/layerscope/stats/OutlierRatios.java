package io.layerscope.stats;

import java.io.Serializable;

/**
 * OWL's layer outlier ratio at M = 3, 5, 7: the share (0..1) of the layer's Wanda metric entries
 * strictly above M times the layer's mean Wanda metric. (OWL's {@code check_outlier_mean}
 * reports the same count as a percentage.)
 */
public record OutlierRatios(double m3, double m5, double m7) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The multipliers M, in the order of the record's fields. */
    static final double[] MULTIPLIERS = {3, 5, 7};
}
