package io.layerscope.stats;

import io.layerscope.LayerscopeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;

/**
 * Computes a Linear layer's {@link LayerStats} from its weight and its calibration scaler_row,
 * with the semantics of docs/METRICS.md (Wanda's code, PyTorch's statistics defaults).
 *
 * <pre>{@code
 * float[] w = checkpoint.readFloats(layer.weightTensor());         // [out, in] row-major
 * float[] scalerRow = tapSums.scalerRow(layer.tapKey());            // [in]
 * LayerStats s = LayerStatistics.compute(layer.name(), w, layer.outFeatures(), layer.inFeatures(), scalerRow);
 * double agree = s.masks().row();                                   // agree_wanda_magnitude_row
 *
 * // a big layer on several cores: the same LayerStats, bit for bit
 * ForkJoinPool pool = new ForkJoinPool(4);
 * LayerStats same = LayerStatistics.compute(layer.name(), w, layer.outFeatures(), layer.inFeatures(), scalerRow, pool);
 * }</pre>
 *
 * <p>Memory: besides the weight only O(in) floats and a few MB of counters; nothing full-size is
 * copied or sorted (order statistics come from radix counting, row masks from per-row selection).
 * The weight may be an array (4 bytes per entry: lm_head of Llama 3, 128256 x 2048, is 1 GiB) or
 * {@link WeightRows} that read each chunk of rows as a pass reaches it ({@link CheckpointWeightRows}:
 * one chunk of scratch per thread, whatever the layer's size). Time is linear in out*in: three
 * passes over the weights (RIA's column sums, two for the distributions, the second also counting
 * where the masks agree, see {@link MaskCounts}); each pass makes |W|, Wanda and RIA of an entry together. With
 * output errors ({@code gram}) the masks are written out in a fourth pass instead. What else a
 * caller needs from the same passes ({@link LayerByProducts}) costs it no pass of its own.
 *
 * <p>Threads: every pass cuts the rows into chunks of about a million entries (the chunk size
 * depends only on the layer's shape). Double sums are taken per chunk and added in chunk order;
 * whole-number counters are kept per thread (they add up the same in any order). With a pool the
 * chunks run on its threads, at most its parallelism at a time, each thread holding one row of
 * scratch and about 0.8 MB of counters (up to about 8 MB in the second pass: 256 KB per bucket
 * holding a rank or a threshold); without one they run on the
 * calling thread. Either way the result is the same bits. The counter arrays are reused from layer
 * to layer ({@link CounterArrays}).
 */
public final class LayerStatistics {
    /** Sparsity of the masks compared unless the job asks for another ({@code --sparsity}). */
    public static final double DEFAULT_SPARSITY = 0.5;
    /** Number of input features listed in {@code top_act_features}. */
    public static final int TOP_FEATURES = 16;

    private LayerStatistics() {
    }

    /** {@link #compute(String, float[], int, int, float[])} for an unnamed layer. */
    public static LayerStats compute(float[] w, int out, int in, float[] scalerRow) {
        return compute("(unnamed)", w, out, in, scalerRow);
    }

    /**
     * The statistics, computed on the calling thread.
     *
     * @param layer     the layer's name, for error messages only
     * @param w         the weight, float32 row-major [out, in] (bf16 and f16 widened exactly)
     * @param scalerRow per input feature: sum over all calibration tokens of x^2, divided by nsamples
     * @throws LayerscopeException if shapes disagree or a weight or scaler_row value is not finite
     */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow) {
        return compute(layer, w, out, in, scalerRow, DEFAULT_SPARSITY);
    }

    /** As {@link #compute(String, float[], int, int, float[])}, with masks at {@code sparsity} (0 < sparsity < 1). */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity) {
        return compute(layer, w, out, in, scalerRow, sparsity, null, RowChunks.rowsPerChunk(in), null);
    }

    /**
     * The statistics, with chunks of rows computed on {@code pool} (at most its parallelism at a
     * time; the calling thread only merges): bit for bit the result of
     * {@link #compute(String, float[], int, int, float[])}, whatever the pool's size.
     *
     * @throws LayerscopeException as the sequential call, for the same first bad entry
     */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, ForkJoinPool pool) {
        return compute(layer, w, out, in, scalerRow, DEFAULT_SPARSITY, pool);
    }

    /** As {@link #compute(String, float[], int, int, float[], ForkJoinPool)}, with masks at {@code sparsity}. */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                     ForkJoinPool pool) {
        Objects.requireNonNull(pool, "pool");
        return compute(layer, w, out, in, scalerRow, sparsity, pool, RowChunks.rowsPerChunk(in), null);
    }

    /** With an explicit chunk size (tests use small ones); {@code pool} null runs on the calling thread. */
    static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, ForkJoinPool pool,
                              int rowsPerChunk) {
        return compute(layer, w, out, in, scalerRow, DEFAULT_SPARSITY, pool, rowsPerChunk, null);
    }

    /**
     * As {@link #compute(String, float[], int, int, float[], double, ForkJoinPool)} ({@code pool} may
     * be null), and the output error of every mask ({@link LayerStats#errors()}) from the Gram matrix
     * of the layer's input, {@code gram} (null: no errors).
     */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                     ForkJoinPool pool, GramProducts gram) {
        return compute(layer, w, out, in, scalerRow, sparsity, pool, RowChunks.rowsPerChunk(in), gram, null);
    }

    /**
     * As {@link #compute(String, float[], int, int, float[], double, ForkJoinPool, GramProducts)},
     * and what {@code byProducts} asks for besides (null: nothing), filled in it on return.
     */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                     ForkJoinPool pool, GramProducts gram, LayerByProducts byProducts) {
        return compute(layer, w, out, in, scalerRow, sparsity, pool, RowChunks.rowsPerChunk(in), gram, byProducts);
    }

    static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                              ForkJoinPool pool, int rowsPerChunk, GramProducts gram) {
        return compute(layer, w, out, in, scalerRow, sparsity, pool, rowsPerChunk, gram, null);
    }

    static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                              ForkJoinPool pool, int rowsPerChunk, GramProducts gram, LayerByProducts byProducts) {
        checkShapes(layer, w, out, in, scalerRow);
        return compute(layer, WeightRows.of(w, out, in), scalerRow, sparsity, pool, rowsPerChunk, gram, byProducts);
    }

    /**
     * As {@link #compute(String, float[], int, int, float[], double, ForkJoinPool, GramProducts, LayerByProducts)}
     * over a weight handed out a run of rows at a time (each pass asks for every row once, a chunk of
     * rows at a time): the same bits as over the same weight in one array.
     */
    public static LayerStats compute(String layer, WeightRows weight, float[] scalerRow, double sparsity,
                                     ForkJoinPool pool, GramProducts gram, LayerByProducts byProducts) {
        return compute(layer, weight, scalerRow, sparsity, pool, RowChunks.rowsPerChunk(weight.in()), gram, byProducts);
    }

    static LayerStats compute(String layer, WeightRows weight, float[] scalerRow, double sparsity, ForkJoinPool pool,
                              int rowsPerChunk, GramProducts gram, LayerByProducts byProducts) {
        if (!(sparsity > 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity " + sparsity + " must be between 0 and 1 (exclusive)");
        }
        int out = weight.out();
        int in = weight.in();
        checkScalerRow(layer, in, scalerRow);
        float[] actNorm = activationNorms(layer, scalerRow);
        RowChunks chunks = new RowChunks(out, rowsPerChunk, pool);
        LayerByProducts.BlockMaxima maxima = byProducts == null ? null : byProducts.startBlockMaxima(out, in);
        Rows rows = new Rows(layer, weight, actNorm, divisors(columnAbsSums(weight, chunks, maxima, actNorm)),
                ActivationNorms.riaFactors(actNorm), new float[out]);
        long numel = (long) out * in;

        TwoPassDistribution activation = new TwoPassDistribution(LogBins.STANDARD);
        Parts all = Parts.create();
        activation.add(actNorm, 0, in);
        // counts per thread (whole numbers: any order), double sums per chunk, added in chunk order
        PerThreadParts<Parts> firstCounts = new PerThreadParts<>(Parts::create);
        chunks.run((from, to) -> rows.countFirstPass(from, to, firstCounts.get()), sums -> sums.addSums(all));
        firstCounts.forEach(all::merge);

        // Wanda's prune_magnitude: t = sort(|W|.flatten())[int(numel * sparsity)]; RIA's layer mask alike
        long layerRank = (long) ((double) numel * sparsity);
        all.weightAbs.startSecondPass(new long[] {layerRank}, new double[0]);
        all.ria.startSecondPass(new long[] {layerRank}, new double[0]);
        activation.startSecondPass(new long[0], new double[0]);
        // the outlier ratios' thresholds, then the caller's (exact in double, compared as floats are)
        float[] extraThresholds = byProducts == null ? new float[0] : byProducts.wandaThresholds();
        int multipliers = OutlierRatios.MULTIPLIERS.length;
        double[] wandaThresholds = new double[multipliers + extraThresholds.length];
        for (int m = 0; m < multipliers; m++) {
            wandaThresholds[m] = OutlierRatios.MULTIPLIERS[m] * all.wanda.mean();
        }
        for (int t = 0; t < extraThresholds.length; t++) {
            wandaThresholds[multipliers + t] = extraThresholds[t];
        }
        all.wanda.startSecondPass(new long[0], wandaThresholds);
        activation.revisit(actNorm, 0, in);
        // Without output errors the mask agreements are counted in the second pass: the layer
        // thresholds' buckets are known now, their exact values only after it (see MaskCounts).
        int[] columns = byProducts == null ? null : byProducts.prunedColumns();
        if (columns != null && Arrays.stream(columns).anyMatch(c -> c >= in)) {
            throw new IllegalArgumentException(layer + ": a column to count is beyond its " + in + " input features");
        }
        MaskCounts maskCounts = gram != null ? null : new MaskCounts(in, sparsity, all.weightAbs.bucketOfRank(layerRank),
                all.ria.bucketOfRank(layerRank), columns);
        PerThreadParts<Parts> secondCounts = new PerThreadParts<>(all::secondPassParts);
        PerThreadParts<MaskCounts> maskParts = new PerThreadParts<>(() -> maskCounts.emptyPart());
        chunks.run((from, to) -> rows.countSecondPass(from, to, secondCounts.get(), maskCounts == null ? null : maskParts.get()),
                sums -> sums.addSquaredDeviations(all));
        secondCounts.forEach(all::merge);

        float layerThreshold = all.weightAbs.valueAtRank(layerRank);
        float riaThreshold = all.ria.valueAtRank(layerRank);
        MaskAgreement agreement;
        ReconstructionErrors errors;
        int[] prunedRows = null;
        if (maskCounts != null) {
            maskParts.forEach(maskCounts::merge);
            agreement = maskCounts.agreement(sparsity, layerThreshold, riaThreshold);
            if (columns != null) {
                prunedRows = maskCounts.wandaPrunedRows();
            }
            maskCounts.release();
            errors = null;
        } else {
            // the output errors need every mask written out, row by row: a pass of its own
            MaskComparison masks = new MaskComparison(in, sparsity, layerThreshold, riaThreshold,
                    new MaskErrors(gram, in), columns);
            chunks.run((from, to) -> {
                MaskComparison part = masks.emptyPart();
                rows.forEach(from, to, part::addRow);
                part.endRows();
                return part;
            }, masks::merge);
            agreement = masks.agreement(sparsity);
            if (columns != null) {
                prunedRows = masks.wandaPrunedRows();
            }
            errors = masks.errors();
        }

        double entries = numel;
        OutlierRatios outliers = new OutlierRatios(all.wanda.countAbove(0) / entries, all.wanda.countAbove(1) / entries,
                all.wanda.countAbove(2) / entries);
        if (byProducts != null) {
            long[] above = new long[extraThresholds.length];
            for (int t = 0; t < above.length; t++) {
                above[t] = all.wanda.countAbove(multipliers + t);
            }
            byProducts.setWandaAboveCounts(above);
            if (prunedRows != null) {
                byProducts.setWandaPrunedRows(prunedRows);
            }
            if (maxima != null) {
                byProducts.setBlockMaxima(maxima);
            }
        }
        LayerStats stats = new LayerStats(out, in, all.weightAbs.distribution(), activation.distribution(),
                all.wanda.distribution(), all.ria.distribution(), agreement, outliers,
                TopFeatures.largest(actNorm, TOP_FEATURES), actNorm, errors);
        // the counters' arrays go to the next layer (merging gave back the parts')
        all.release();
        activation.release();
        return stats;
    }

    /**
     * The checks {@link #compute} makes before reading a weight (shapes, scaler_row finite and
     * non-negative), then sqrt(scaler_row) in float32: for another implementation of the same
     * statistics (the libtorch one), so that both refuse bad input with the same message.
     */
    public static float[] checkedActivationNorms(String layer, float[] w, int out, int in, float[] scalerRow) {
        checkShapes(layer, w, out, in, scalerRow);
        return activationNorms(layer, scalerRow);
    }

    /** The exception {@link #compute} throws for a non-finite weight entry [i, j]. */
    public static LayerscopeException nonFiniteWeightError(String layer, int i, int j, float value) {
        return nonFiniteWeight(layer, i, j, value);
    }

    /**
     * Per input column j, sum over rows of |W_ij| (RIA's column normaliser): summed in double, rounded
     * to float32; and the block maxima when {@code maxima} is not null (the same pass over the rows).
     */
    private static float[] columnAbsSums(WeightRows weight, RowChunks chunks, LayerByProducts.BlockMaxima maxima,
                                         float[] actNorm) {
        int in = weight.in();
        double[] sums = new double[in];
        chunks.run((from, to) -> {
            double[] part = new double[in];
            WeightRows.Run run = weight.rows(from, to);
            float[] w = run.values();
            if (maxima == null) {
                for (int i = from; i < to; i++) {
                    int base = run.offset() + (i - from) * in;
                    for (int j = 0; j < in; j++) {
                        part[j] += Math.abs(w[base + j]);
                    }
                }
                return new ColumnPart(part, null);
            }
            LayerByProducts.BlockMaxima.Part cells = maxima.part(from, to);
            cells.addRows(w, run.offset(), from, to, part, actNorm);
            return new ColumnPart(part, cells);
        }, part -> {
            for (int j = 0; j < in; j++) {
                sums[j] += part.sums()[j];
            }
            if (part.cells() != null) {
                maxima.merge(part.cells());
            }
        });
        float[] out = new float[in];
        for (int j = 0; j < in; j++) {
            out[j] = (float) sums[j];
        }
        return out;
    }

    /** A chunk's column sums of |W| and, if asked for, its block maxima. */
    private record ColumnPart(double[] sums, LayerByProducts.BlockMaxima.Part cells) {
    }

    /** One chunk's counts of |W|, of the Wanda metric and of RIA (or, merged, the layer's). */
    private record Parts(TwoPassDistribution weightAbs, TwoPassDistribution wanda, TwoPassDistribution ria) {
        static Parts create() {
            return new Parts(new TwoPassDistribution(LogBins.STANDARD), new TwoPassDistribution(LogBins.STANDARD),
                    new TwoPassDistribution(LogBins.STANDARD));
        }

        Parts secondPassParts() {
            return new Parts(weightAbs.secondPassPart(), wanda.secondPassPart(), ria.secondPassPart());
        }

        void merge(Parts part) {
            weightAbs.merge(part.weightAbs);
            wanda.merge(part.wanda);
            ria.merge(part.ria);
        }

        void release() {
            weightAbs.release();
            wanda.release();
            ria.release();
        }
    }

    /** Per column sum of |W| as RIA's divisor: a zero sum (a column of zeros) becomes 1, so its terms are 0/1 = 0. */
    private static float[] divisors(float[] sums) {
        float[] d = new float[sums.length];
        for (int j = 0; j < d.length; j++) {
            d[j] = sums[j] > 0 ? sums[j] : 1f;
        }
        return d;
    }

    /**
     * A chunk's double sums of |W|, the Wanda metric and RIA (first pass: the values; second pass:
     * their squared deviations from the mean), each summed row by row in row order, as a chunk's
     * part of the distribution would sum them; {@code absBitsSeen}: the OR of the chunk's |W| bits
     * in the first pass (-1 in the second, which does not take it).
     */
    private record ChunkSums(double abs, double wanda, double ria, long entries, int absBitsSeen) {
        void addSums(Parts all) {
            all.weightAbs.addSum(abs, entries, absBitsSeen);
            all.wanda.addSum(wanda, entries, -1);
            all.ria.addSum(ria, entries, -1);
        }

        void addSquaredDeviations(Parts all) {
            all.weightAbs.addSquaredDeviations(abs, entries);
            all.wanda.addSquaredDeviations(wanda, entries);
            all.ria.addSquaredDeviations(ria, entries);
        }
    }

    /**
     * The rows of |W|, of the Wanda metric and of the RIA metric, in float32 as torch computes them:
     * |W|, |W| * act_norm and (|W|/column sum + |W|/row sum) * sqrt(act_norm). A zero row or column
     * sum (all its weights zero) makes its term 0 where torch would divide 0 by 0: the divisors are
     * then 1 (see {@link #divisors}), which keeps the loops free of branches. Each pass computes the
     * three quantities of an entry together, so their double sums (separate chains, each in column
     * order as the distributions define them) overlap in time instead of running one after another.
     * {@code rowDivisors} are filled by the first pass, row by row, and read by the later ones.
     */
    private record Rows(String layer, WeightRows weight, float[] actNorm, float[] columnDivisors, float[] riaFactors,
                        float[] rowDivisors) {
        interface Visitor {
            /** A row: its weights {@code w[base, base + in)}, its |W|, Wanda and RIA. */
            void visit(float[] w, int base, float[] absRow, float[] wandaRow, float[] riaRow);
        }

        /**
         * First pass over rows [from, to): counts the three quantities into {@code parts}, checks
         * every weight, and returns their sums.
         */
        ChunkSums countFirstPass(int from, int to, Parts parts) {
            int in = actNorm.length;
            WeightRows.Run run = weight.rows(from, to);
            float[] w = run.values();
            float[] absRow = new float[in];
            float[] wandaRow = new float[in];
            float[] riaRow = new float[in];
            TwoPassDistribution absCounts = parts.weightAbs;
            TwoPassDistribution wandaCounts = parts.wanda;
            TwoPassDistribution riaCounts = parts.ria;
            double chunkAbs = 0;
            double chunkWanda = 0;
            double chunkRia = 0;
            // a bf16 weight has no low bits: then |W|'s second pass has nothing to look up
            int absBitsSeen = 0;
            for (int i = from; i < to; i++) {
                int base = run.offset() + (i - from) * in;
                double absSum = 0;
                double wandaSum = 0;
                for (int j = 0; j < in; j++) {
                    float abs = Math.abs(w[base + j]);
                    float wanda = abs * actNorm[j] + 0f;
                    absRow[j] = abs;
                    wandaRow[j] = wanda;
                    absSum += abs;
                    wandaSum += wanda;
                    absBitsSeen |= Float.floatToRawIntBits(abs);
                }
                if (!(absSum <= Double.MAX_VALUE)) {
                    throw firstNonFinite(w, base, i);
                }
                float rowSum = (float) absSum;
                float rowDivisor = rowSum > 0 ? rowSum : 1f;
                rowDivisors[i] = rowDivisor;
                riaRow(absRow, rowDivisor, riaRow);
                double riaSum = 0;
                for (int j = 0; j < in; j++) {
                    float abs = absRow[j];
                    float ria = riaRow[j];
                    riaSum += ria;
                    absCounts.count(Float.floatToRawIntBits(abs));
                    wandaCounts.count(Float.floatToRawIntBits(wandaRow[j]));
                    riaCounts.count(Float.floatToRawIntBits(ria));
                }
                chunkAbs += absSum;
                chunkWanda += wandaSum;
                chunkRia += riaSum;
            }
            return new ChunkSums(chunkAbs, chunkWanda, chunkRia, (long) (to - from) * in, absBitsSeen);
        }

        /**
         * Second pass over rows [from, to): counts the low bits of the ranks' buckets into
         * {@code parts} and, unless {@code masks} is null, each row's mask agreements into
         * {@code masks}; returns the squared deviations.
         */
        ChunkSums countSecondPass(int from, int to, Parts parts, MaskCounts masks) {
            int in = actNorm.length;
            WeightRows.Run run = weight.rows(from, to);
            float[] w = run.values();
            int[] absBits = masks != null ? masks.absBits() : new int[in];
            int[] wandaBits = masks != null ? masks.wandaBits() : new int[in];
            int[] riaBits = masks != null ? masks.riaBits() : new int[in];
            // the row selections' counting, done here as the rows are made (a scan of each saved)
            int[] wandaPrefixCounts = masks != null ? masks.wandaPrefixCounts() : new int[RowSelection.bucketOf(-1) + 1];
            int[] absPrefixCounts = masks != null ? masks.absPrefixCounts() : new int[RowSelection.bucketOf(-1) + 1];
            TwoPassDistribution absCounts = parts.weightAbs;
            TwoPassDistribution wandaCounts = parts.wanda;
            TwoPassDistribution riaCounts = parts.ria;
            double absMean = absCounts.mean();
            double wandaMean = wandaCounts.mean();
            double riaMean = riaCounts.mean();
            double chunkAbs = 0;
            double chunkWanda = 0;
            double chunkRia = 0;
            float[] absRow = new float[in];
            float[] riaRow = new float[in];
            for (int i = from; i < to; i++) {
                int base = run.offset() + (i - from) * in;
                float rowDivisor = rowDivisors[i];
                for (int j = 0; j < in; j++) {
                    absRow[j] = Math.abs(w[base + j]);
                }
                riaRow(absRow, rowDivisor, riaRow);
                double absSquares = 0;
                double wandaSquares = 0;
                double riaSquares = 0;
                int wandaLowestMinusOne = Integer.MAX_VALUE;
                int wandaHighest = 0;
                int absLowestMinusOne = Integer.MAX_VALUE;
                int absHighest = 0;
                for (int j = 0; j < in; j++) {
                    float abs = absRow[j];
                    float wanda = abs * actNorm[j] + 0f;
                    float ria = riaRow[j];
                    double absDeviation = abs - absMean;
                    double wandaDeviation = wanda - wandaMean;
                    double riaDeviation = ria - riaMean;
                    absSquares += absDeviation * absDeviation;
                    wandaSquares += wandaDeviation * wandaDeviation;
                    riaSquares += riaDeviation * riaDeviation;
                    int absBitsJ = Float.floatToRawIntBits(abs);
                    int wandaBitsJ = Float.floatToRawIntBits(wanda);
                    int riaBitsJ = Float.floatToRawIntBits(ria);
                    absBits[j] = absBitsJ;
                    wandaBits[j] = wandaBitsJ;
                    riaBits[j] = riaBitsJ;
                    int wandaBucket = RowSelection.bucketOf(wandaBitsJ);
                    int absBucket = RowSelection.bucketOf(absBitsJ);
                    wandaPrefixCounts[wandaBucket]++;
                    absPrefixCounts[absBucket]++;
                    wandaLowestMinusOne = Math.min(wandaLowestMinusOne, RowSelection.lowestMinusOne(wandaBucket));
                    wandaHighest = Math.max(wandaHighest, wandaBucket);
                    absLowestMinusOne = Math.min(absLowestMinusOne, RowSelection.lowestMinusOne(absBucket));
                    absHighest = Math.max(absHighest, absBucket);
                    absCounts.revisitBits(absBitsJ);
                    wandaCounts.revisitBits(wandaBitsJ);
                    riaCounts.revisitBits(riaBitsJ);
                }
                if (masks != null) {
                    masks.countCountedRow(wandaLowestMinusOne, wandaHighest, absLowestMinusOne, absHighest);
                } else {
                    RowSelection.clear(wandaPrefixCounts, wandaLowestMinusOne, wandaHighest);
                    RowSelection.clear(absPrefixCounts, absLowestMinusOne, absHighest);
                }
                chunkAbs += absSquares;
                chunkWanda += wandaSquares;
                chunkRia += riaSquares;
            }
            return new ChunkSums(chunkAbs, chunkWanda, chunkRia, (long) (to - from) * in, -1);
        }

        /**
         * A row of RIA from its row of |W|, in a loop of its own: with no other work in it the JIT
         * compiles its two divisions per entry to vector instructions; in the counting loops they
         * would be divided one value at a time. Same bits: each lane divides as the scalar would.
         */
        private void riaRow(float[] absRow, float rowDivisor, float[] riaRow) {
            for (int j = 0; j < riaRow.length; j++) {
                float abs = absRow[j];
                riaRow[j] = (abs / columnDivisors[j] + abs / rowDivisor) * riaFactors[j] + 0f;
            }
        }

        /** Rows [from, to) of the three quantities, one at a time into scratch of one row each (after the first pass). */
        void forEach(int from, int to, Visitor visitor) {
            int in = actNorm.length;
            WeightRows.Run run = weight.rows(from, to);
            float[] w = run.values();
            float[] absRow = new float[in];
            float[] wandaRow = new float[in];
            float[] riaRow = new float[in];
            for (int i = from; i < to; i++) {
                int base = run.offset() + (i - from) * in;
                float rowDivisor = rowDivisors[i];
                for (int j = 0; j < in; j++) {
                    float abs = Math.abs(w[base + j]);
                    absRow[j] = abs;
                    wandaRow[j] = abs * actNorm[j] + 0f;
                }
                riaRow(absRow, rowDivisor, riaRow);
                visitor.visit(w, base, absRow, wandaRow, riaRow);
            }
        }

        /** The error for row {@code i}, {@code w[base, base + in)}, whose sum of |W| is not finite. */
        private LayerscopeException firstNonFinite(float[] w, int base, int i) {
            int j = 0;
            while (Math.abs(w[base + j]) <= Float.MAX_VALUE) {
                j++;
            }
            return nonFiniteWeight(layer, i, j, w[base + j]);
        }
    }

    /** The activation norms, once scaler_row is checked (a non-finite or negative mean is a failed forward). */
    private static float[] activationNorms(String layer, float[] scalerRow) {
        float[] norms = new float[scalerRow.length];
        for (int j = 0; j < scalerRow.length; j++) {
            float s = scalerRow[j];
            if (!(s >= 0 && s <= Float.MAX_VALUE)) {
                throw new LayerscopeException("layer " + layer + ": scaler_row[" + j + "] is " + s
                        + ", but a mean of squared activations must be finite and non-negative. The calibration"
                        + " forward pass overflowed or produced NaN (from a non-finite weight, or an overflow).");
            }
            norms[j] = ActivationNorms.sqrt(s);
        }
        return norms;
    }

    private static void checkShapes(String layer, float[] w, int out, int in, float[] scalerRow) {
        if (out <= 0 || in <= 0 || (long) out * in != w.length) {
            throw new LayerscopeException("layer " + layer + ": the weight has " + w.length
                    + " values but its shape [out, in] = [" + out + ", " + in + "] needs " + (long) out * in
                    + " (and both must be positive). Check that the tensor read matches the layer's shape in"
                    + " the checkpoint.");
        }
        checkScalerRow(layer, in, scalerRow);
    }

    private static void checkScalerRow(String layer, int in, float[] scalerRow) {
        if (scalerRow.length != in) {
            throw new LayerscopeException("layer " + layer + ": scaler_row has " + scalerRow.length
                    + " values but the layer has in_features = " + in + ". The activation sums belong to a"
                    + " different tap; check the layer-to-tap mapping.");
        }
    }

    private static LayerscopeException nonFiniteWeight(String layer, int i, int j, float value) {
        return new LayerscopeException("layer " + layer + ": weight entry [" + i + ", " + j + "] is " + value
                + "; statistics of a non-finite weight are meaningless. The checkpoint file is damaged or"
                + " was saved from a diverged model: download it again or check its source.");
    }
}
