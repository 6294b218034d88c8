package io.layerscope.model;

import java.io.Serializable;

/** The llama3 rope_scaling block of config.json (the only scaling type layerscope implements). */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) implements Serializable {
}
