package io.layerscope.prune;

import io.layerscope.LayerscopeException;
import io.layerscope.stats.RowChunks;
import io.layerscope.stats.RowPruner;
import io.layerscope.stats.WeightRows;
import java.util.concurrent.ForkJoinPool;

/**
 * Wanda's mask of one layer: the metric |W| * sqrt(scaler_row) in float32, row by row, pruned by the
 * pattern at the layer's sparsity (REFERENCE: per row the floor(in * s) smallest, stable; or N:M).
 * Never holds more than one row of scores besides the weight and the packed mask.
 */
public final class LayerPruner {
    private LayerPruner() {
    }

    /**
     * @param w        the weight, float32 row-major [out, in]
     * @param actNorm  sqrt(scaler_row) per input feature, float32
     * @param sparsity the layer's target sparsity (unstructured); ignored by N:M
     */
    public static LayerMask wanda(String layer, float[] w, int out, int in, float[] actNorm, double sparsity,
                                  SparsityPattern pattern) {
        return wanda(layer, w, out, in, actNorm, sparsity, pattern, null);
    }

    /**
     * As {@link #wanda(String, float[], int, int, float[], double, SparsityPattern)}, the rows in
     * chunks on {@code pool} (null: the calling thread): rows are independent, so the mask is the
     * same bits, and a damaged entry is reported as the sequential loop reports it (the first in
     * row-major order). Each chunk starts on a word of the packed mask, so chunks never share one.
     */
    public static LayerMask wanda(String layer, float[] w, int out, int in, float[] actNorm, double sparsity,
                                  SparsityPattern pattern, ForkJoinPool pool) {
        if ((long) out * in != w.length || actNorm.length != in) {
            throw new IllegalArgumentException(layer + ": weight of " + w.length + " values, shape " + out + "x" + in
                    + ", " + actNorm.length + " activation norms");
        }
        return wanda(layer, WeightRows.of(w, out, in), actNorm, sparsity, pattern, pool);
    }

    /**
     * As {@link #wanda(String, float[], int, int, float[], double, SparsityPattern, ForkJoinPool)}
     * over a weight handed out a chunk of rows at a time (each row asked for once).
     */
    public static LayerMask wanda(String layer, WeightRows w, float[] actNorm, double sparsity, SparsityPattern pattern,
                                  ForkJoinPool pool) {
        int out = w.out();
        int in = w.in();
        if (actNorm.length != in) {
            throw new IllegalArgumentException(layer + ": shape " + out + "x" + in + ", " + actNorm.length
                    + " activation norms");
        }
        for (int j = 0; j < in; j++) {
            // else the selection meets a NaN score, or N:M ranks it by its sign bit, which the platform chose
            if (!(actNorm[j] >= 0 && actNorm[j] <= Float.MAX_VALUE)) {
                throw new LayerscopeException("layer " + layer + ": the activation norm of input feature " + j + " is "
                        + actNorm[j] + "; Wanda's metric needs finite, non-negative norms. The forward pass that fed"
                        + " the layer overflowed or produced NaN.");
            }
        }
        if (pattern.structured() && in % pattern.m() != 0) {
            throw new LayerscopeException("--prune-m " + pattern.m() + " does not divide " + layer + "'s in_features "
                    + in + "; an N:M pattern needs whole groups of M columns");
        }
        LayerMask.Builder mask = new LayerMask.Builder(out, in);
        new RowChunks(out, rowsPerChunk(in), pool).run(
                (from, to) -> maskRows(layer, w, in, actNorm, sparsity, pattern, mask, from, to), done -> { });
        return mask.build();
    }

    /** About {@link RowChunks#ENTRIES_PER_CHUNK} entries a chunk, in whole words of the packed mask. */
    static int rowsPerChunk(int in) {
        int step = Long.SIZE / gcd(in, Long.SIZE);
        return Math.max(step, RowChunks.rowsPerChunk(in) / step * step);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    private static Void maskRows(String layer, WeightRows weight, int in, float[] actNorm, double sparsity,
                                 SparsityPattern pattern, LayerMask.Builder mask, int from, int to) {
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] scores = new float[in];
        byte[] pruned = new byte[in];
        WeightRows.Run run = weight.rows(from, to);
        float[] w = run.values();
        for (int i = from; i < to; i++) {
            int base = run.offset() + (i - from) * in;
            for (int j = 0; j < in; j++) {
                float v = w[base + j];
                if (!(Math.abs(v) <= Float.MAX_VALUE)) {
                    throw new LayerscopeException("layer " + layer + ": weight entry [" + i + ", " + j + "] is " + v
                            + "; a mask over a non-finite weight is meaningless (damaged checkpoint?)");
                }
                scores[j] = Math.abs(v) * actNorm[j];
            }
            pattern.mask(scores, pruner, pruned);
            mask.row(i, pruned);
        }
        return null;
    }
}
