package io.layerscope.stats;

import java.io.Serializable;

/** Everything layerscope reports about one quantity of a layer: its summary and its histogram. */
public record Distribution(Summary summary, Histogram histogram) implements Serializable {
    private static final long serialVersionUID = 1L;
}
