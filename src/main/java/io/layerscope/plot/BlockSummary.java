package io.layerscope.plot;


/**
 * The per-block numbers the overview's depth panels show: one row of the {@code blocks} table
 * reduced to what is drawn, so the chart needs neither Spark nor the statistics code. A value the
 * run did not measure is NaN and is left out of the picture.
 *
 * <pre>{@code
 * new BlockSummary(3, 0.062, 0.11, 1534.0, true);
 * }</pre>
 *
 * @param block               decoder block index
 * @param blockInfluence      {@code block_influence}: mean 1 - cos(h_in, h_out) over the calibration tokens
 * @param angularDistanceNext {@code angular_distance_next}: arccos(cos(h_in, h_out)) / pi on the last token
 * @param topAbs              {@code massive_top_abs}: the largest |h| of the block output
 * @param massive             {@code massive}: the block has a massive activation (Sun et al.)
 */
public record BlockSummary(int block, double blockInfluence, double angularDistanceNext, double topAbs, boolean massive) {

    public BlockSummary {
        if (block < 0) {
            throw new IllegalArgumentException("block summary: block " + block + " must be a decoder block index (0 or more)");
        }
    }
}
