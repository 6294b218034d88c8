package io.layerscope.plot;

/**
 * The two heatmaps of a layer's picture, reduced by block maximum from the same weight.
 *
 * @param weightAbs block maxima of {@code |W|}
 * @param wanda block maxima of the Wanda metric {@code |W[i, j]| * actNorm[j]}
 */
public record LayerHeatmaps(ReducedMatrix weightAbs, ReducedMatrix wanda) {
}
