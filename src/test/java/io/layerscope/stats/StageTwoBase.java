package io.layerscope.stats;

import io.layerscope.LayerscopeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;

/**
 * Stage two's statistics as of commit 52c4d48 (before the first pass stopped locating histogram
 * bins), kept for {@code io.layerscope.spark.StageTwoBenchmark} to time beside the current code in
 * the same JVM: verbatim copies of {@code LayerStatistics} and {@code TwoPassDistribution}, nested
 * here so that they shadow the current ones; the rest is shared with the current code.
 */
public final class StageTwoBase {
    private StageTwoBase() {
    }

    /** The statistics of one layer on the calling thread, as {@code LayerStatistics.compute} of 52c4d48. */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity) {
        return LayerStatistics.compute(layer, w, out, in, scalerRow, sparsity);
    }

    /** As above, with chunks of rows on {@code pool}. */
    public static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                     ForkJoinPool pool) {
        return LayerStatistics.compute(layer, w, out, in, scalerRow, sparsity, pool);
    }

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
     * <p>Memory: besides the caller's weight array (4 bytes per entry) only O(in) floats and a few
     * MB of counters; nothing full-size is copied or sorted (order statistics come from radix
     * counting, row masks from per-row selection). lm_head of Llama 3 (128256 x 2048, 1 GiB as
     * float32) therefore fits in a 2 GiB heap. Time is linear in out*in: three passes over the
     * weights (RIA's column sums, two for the distributions, the second also counting where the masks
     * agree, see {@link MaskCounts}); each pass makes |W|, Wanda and RIA of an entry together. With
     * output errors ({@code gram}) the masks are written out in a fourth pass instead.
     *
     * <p>Threads: every pass cuts the rows into chunks of about a million entries (the chunk size
     * depends only on the layer's shape). Double sums are taken per chunk and added in chunk order;
     * whole-number counters are kept per thread (they add up the same in any order). With a pool the
     * chunks run on its threads, at most its parallelism at a time, each thread holding one row of
     * scratch and about 0.8 MB of counters (a few MB in the second pass); without one they run on the
     * calling thread. Either way the result is the same bits.
     */
    static final class LayerStatistics {
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
            return compute(layer, w, out, in, scalerRow, sparsity, pool, RowChunks.rowsPerChunk(in), gram);
        }

        static LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                  ForkJoinPool pool, int rowsPerChunk, GramProducts gram) {
            if (!(sparsity > 0 && sparsity < 1)) {
                throw new IllegalArgumentException("sparsity " + sparsity + " must be between 0 and 1 (exclusive)");
            }
            checkShapes(layer, w, out, in, scalerRow);
            float[] actNorm = activationNorms(layer, scalerRow);
            RowChunks chunks = new RowChunks(out, rowsPerChunk, pool);
            Rows rows = new Rows(layer, w, actNorm, divisors(columnAbsSums(w, in, chunks)), riaActivationFactors(actNorm),
                    new float[out]);

            TwoPassDistribution activation = new TwoPassDistribution(LogBins.STANDARD);
            Parts all = Parts.create();
            activation.add(actNorm, 0, in);
            // counts per thread (whole numbers: any order), double sums per chunk, added in chunk order
            PerThreadParts<Parts> firstCounts = new PerThreadParts<>(Parts::create);
            chunks.run((from, to) -> rows.countFirstPass(from, to, firstCounts.get()), sums -> sums.addSums(all));
            firstCounts.forEach(all::merge);

            // Wanda's prune_magnitude: t = sort(|W|.flatten())[int(numel * sparsity)]; RIA's layer mask alike
            long layerRank = (long) ((double) w.length * sparsity);
            all.weightAbs.startSecondPass(new long[] {layerRank}, new double[0]);
            all.ria.startSecondPass(new long[] {layerRank}, new double[0]);
            activation.startSecondPass(new long[0], new double[0]);
            double[] outlierThresholds = new double[OutlierRatios.MULTIPLIERS.length];
            for (int m = 0; m < outlierThresholds.length; m++) {
                outlierThresholds[m] = OutlierRatios.MULTIPLIERS[m] * all.wanda.mean();
            }
            all.wanda.startSecondPass(new long[0], outlierThresholds);
            activation.revisit(actNorm, 0, in);
            // Without output errors the mask agreements are counted in the second pass: the layer
            // thresholds' buckets are known now, their exact values only after it (see MaskCounts).
            MaskCounts maskCounts = gram != null ? null : new MaskCounts(in, sparsity, all.weightAbs.bucketOfRank(layerRank),
                    all.ria.bucketOfRank(layerRank));
            PerThreadParts<Parts> secondCounts = new PerThreadParts<>(all::secondPassParts);
            PerThreadParts<MaskCounts> maskParts = new PerThreadParts<>(() -> maskCounts.emptyPart());
            chunks.run((from, to) -> rows.countSecondPass(from, to, secondCounts.get(), maskCounts == null ? null : maskParts.get()),
                    sums -> sums.addSquaredDeviations(all));
            secondCounts.forEach(all::merge);

            float layerThreshold = all.weightAbs.valueAtRank(layerRank);
            float riaThreshold = all.ria.valueAtRank(layerRank);
            MaskAgreement agreement;
            ReconstructionErrors errors;
            if (maskCounts != null) {
                maskParts.forEach(maskCounts::merge);
                agreement = maskCounts.agreement(sparsity, layerThreshold, riaThreshold);
                errors = null;
            } else {
                // the output errors need every mask written out, row by row: a pass of its own
                MaskComparison masks = new MaskComparison(in, sparsity, layerThreshold, riaThreshold,
                        new MaskErrors(gram, in), null);
                chunks.run((from, to) -> {
                    MaskComparison part = masks.emptyPart();
                    rows.forEach(from, to, (i, absRow, wandaRow, riaRow) -> part.addRow(w, i * in, absRow, wandaRow, riaRow));
                    return part;
                }, masks::merge);
                agreement = masks.agreement(sparsity);
                errors = masks.errors();
            }

            double numel = w.length;
            OutlierRatios outliers = new OutlierRatios(all.wanda.countAbove(0) / numel, all.wanda.countAbove(1) / numel,
                    all.wanda.countAbove(2) / numel);
            return new LayerStats(out, in, all.weightAbs.distribution(), activation.distribution(), all.wanda.distribution(),
                    all.ria.distribution(), agreement, outliers, TopFeatures.largest(actNorm, TOP_FEATURES), actNorm, errors);
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

        /** Per input column j, sum over rows of |W_ij| (RIA's column normaliser): summed in double, rounded to float32. */
        private static float[] columnAbsSums(float[] w, int in, RowChunks chunks) {
            double[] sums = new double[in];
            chunks.run((from, to) -> {
                double[] part = new double[in];
                for (int i = from; i < to; i++) {
                    int base = i * in;
                    for (int j = 0; j < in; j++) {
                        part[j] += Math.abs(w[base + j]);
                    }
                }
                return part;
            }, part -> {
                for (int j = 0; j < in; j++) {
                    sums[j] += part[j];
                }
            });
            float[] out = new float[in];
            for (int j = 0; j < in; j++) {
                out[j] = (float) sums[j];
            }
            return out;
        }

        /** RIA's activation factor sqrt(scaler_row)^0.5 = sqrt(act_norm), in float32 as torch's pow(0.5) (a sqrt). */
        private static float[] riaActivationFactors(float[] actNorm) {
            float[] f = new float[actNorm.length];
            for (int j = 0; j < f.length; j++) {
                f[j] = (float) Math.sqrt(actNorm[j]);
            }
            return f;
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
         * their squared deviations from the mean, with Wanda's counts above the outlier thresholds), each
         * summed row by row in row order, as a chunk's part of the distribution would sum them.
         */
        private record ChunkSums(double abs, double wanda, double ria, long entries, long[] wandaAbove) {
            void addSums(Parts all) {
                all.weightAbs.addSum(abs, entries);
                all.wanda.addSum(wanda, entries);
                all.ria.addSum(ria, entries);
            }

            void addSquaredDeviations(Parts all) {
                all.weightAbs.addSquaredDeviations(abs, entries, new long[0]);
                all.wanda.addSquaredDeviations(wanda, entries, wandaAbove);
                all.ria.addSquaredDeviations(ria, entries, new long[0]);
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
        private record Rows(String layer, float[] w, float[] actNorm, float[] columnDivisors, float[] riaFactors,
                            float[] rowDivisors) {
            interface Visitor {
                void visit(int row, float[] absRow, float[] wandaRow, float[] riaRow);
            }

            /**
             * First pass over rows [from, to): counts the three quantities into {@code parts}, checks
             * every weight, and returns their sums.
             */
            ChunkSums countFirstPass(int from, int to, Parts parts) {
                int in = actNorm.length;
                float[] absRow = new float[in];
                float[] wandaRow = new float[in];
                TwoPassDistribution absCounts = parts.weightAbs;
                TwoPassDistribution wandaCounts = parts.wanda;
                TwoPassDistribution riaCounts = parts.ria;
                double chunkAbs = 0;
                double chunkWanda = 0;
                double chunkRia = 0;
                for (int i = from; i < to; i++) {
                    int base = i * in;
                    double absSum = 0;
                    double wandaSum = 0;
                    for (int j = 0; j < in; j++) {
                        float abs = Math.abs(w[base + j]);
                        float wanda = abs * actNorm[j] + 0f;
                        absRow[j] = abs;
                        wandaRow[j] = wanda;
                        absSum += abs;
                        wandaSum += wanda;
                    }
                    if (!(absSum <= Double.MAX_VALUE)) {
                        throw firstNonFinite(i);
                    }
                    float rowSum = (float) absSum;
                    float rowDivisor = rowSum > 0 ? rowSum : 1f;
                    rowDivisors[i] = rowDivisor;
                    double riaSum = 0;
                    for (int j = 0; j < in; j++) {
                        float abs = absRow[j];
                        float ria = (abs / columnDivisors[j] + abs / rowDivisor) * riaFactors[j] + 0f;
                        riaSum += ria;
                        absCounts.count(Float.floatToRawIntBits(abs));
                        wandaCounts.count(Float.floatToRawIntBits(wandaRow[j]));
                        riaCounts.count(Float.floatToRawIntBits(ria));
                    }
                    chunkAbs += absSum;
                    chunkWanda += wandaSum;
                    chunkRia += riaSum;
                }
                return new ChunkSums(chunkAbs, chunkWanda, chunkRia, (long) (to - from) * in, null);
            }

            /**
             * Second pass over rows [from, to): counts the low bits of the ranks' buckets into
             * {@code parts} and, unless {@code masks} is null, each row's mask agreements into
             * {@code masks}; returns the squared deviations and Wanda's outlier counts.
             */
            ChunkSums countSecondPass(int from, int to, Parts parts, MaskCounts masks) {
                int in = actNorm.length;
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
                double t0 = wandaCounts.threshold(0);
                double t1 = wandaCounts.threshold(1);
                double t2 = wandaCounts.threshold(2);
                double chunkAbs = 0;
                double chunkWanda = 0;
                double chunkRia = 0;
                long[] above = new long[3];
                for (int i = from; i < to; i++) {
                    int base = i * in;
                    float rowDivisor = rowDivisors[i];
                    double absSquares = 0;
                    double wandaSquares = 0;
                    double riaSquares = 0;
                    long above0 = 0;
                    long above1 = 0;
                    long above2 = 0;
                    int wandaLowestMinusOne = Integer.MAX_VALUE;
                    int wandaHighest = 0;
                    int absLowestMinusOne = Integer.MAX_VALUE;
                    int absHighest = 0;
                    for (int j = 0; j < in; j++) {
                        float abs = Math.abs(w[base + j]);
                        float wanda = abs * actNorm[j] + 0f;
                        float ria = (abs / columnDivisors[j] + abs / rowDivisor) * riaFactors[j] + 0f;
                        double absDeviation = abs - absMean;
                        double wandaDeviation = wanda - wandaMean;
                        double riaDeviation = ria - riaMean;
                        absSquares += absDeviation * absDeviation;
                        wandaSquares += wandaDeviation * wandaDeviation;
                        riaSquares += riaDeviation * riaDeviation;
                        above0 += wanda > t0 ? 1 : 0;
                        above1 += wanda > t1 ? 1 : 0;
                        above2 += wanda > t2 ? 1 : 0;
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
                    above[0] += above0;
                    above[1] += above1;
                    above[2] += above2;
                    chunkAbs += absSquares;
                    chunkWanda += wandaSquares;
                    chunkRia += riaSquares;
                }
                return new ChunkSums(chunkAbs, chunkWanda, chunkRia, (long) (to - from) * in, above);
            }

            /** Rows [from, to) of the three quantities, one at a time into scratch of one row each (after the first pass). */
            void forEach(int from, int to, Visitor visitor) {
                int in = actNorm.length;
                float[] absRow = new float[in];
                float[] wandaRow = new float[in];
                float[] riaRow = new float[in];
                for (int i = from; i < to; i++) {
                    int base = i * in;
                    float rowDivisor = rowDivisors[i];
                    for (int j = 0; j < in; j++) {
                        float abs = Math.abs(w[base + j]);
                        absRow[j] = abs;
                        wandaRow[j] = abs * actNorm[j] + 0f;
                        riaRow[j] = (abs / columnDivisors[j] + abs / rowDivisor) * riaFactors[j] + 0f;
                    }
                    visitor.visit(i, absRow, wandaRow, riaRow);
                }
            }

            private LayerscopeException firstNonFinite(int i) {
                int in = actNorm.length;
                int j = 0;
                while (Math.abs(w[i * in + j]) <= Float.MAX_VALUE) {
                    j++;
                }
                return nonFiniteWeight(layer, i, j, w[i * in + j]);
            }
        }

        /** sqrt(scaler_row) in float32 (a double sqrt rounded to float is the correctly rounded float sqrt). */
        private static float[] activationNorms(String layer, float[] scalerRow) {
            float[] norms = new float[scalerRow.length];
            for (int j = 0; j < scalerRow.length; j++) {
                float s = scalerRow[j];
                if (!(s >= 0 && s <= Float.MAX_VALUE)) {
                    throw new LayerscopeException("layer " + layer + ": scaler_row[" + j + "] is " + s
                            + ", but a mean of squared activations must be finite and non-negative. The calibration"
                            + " forward pass overflowed or produced NaN (from a non-finite weight, or an overflow).");
                }
                norms[j] = (float) Math.sqrt(s);
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

    /**
     * The exact {@link Distribution} of a stream of non-negative floats, read twice, in memory that
     * does not grow with the number of values (a layer's weights are never copied or sorted).
     *
     * <p>For non-negative floats the raw bits order like the values, so order statistics come from
     * radix counting: the first pass counts values per top-16-bit pattern (and their sum and
     * histogram); that locates the bucket of every rank needed. The second pass sums squared deviations
     * from the mean (a two-pass variance, stable where sum-of-squares is not), counts values above the
     * caller's thresholds, and counts the low 16 bits of the values in the located buckets, which
     * pins every requested rank to its exact value.
     *
     * <p>Use: {@link #add} every value (in slices); {@link #startSecondPass}; {@link #revisit} the
     * same values (any order and slicing); then {@link #distribution}, {@link #valueAtRank}, {@link #countAbove}.
     *
     * <p>Slices may be counted on several threads, each into its own part, and {@link #merge merged}
     * into one instance: in the first pass the parts are fresh instances with the same bins, in the
     * second pass they come from {@link #secondPassPart}. Counts add up exactly in any order; the
     * sums are doubles, so merging the same parts in the same order gives the same bits (the
     * caller fixes the order, e.g. by position of the slice).
     *
     * <pre>{@code
     * TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
     * for (int[] slice : slices) {                       // each part may be counted on another thread
     *     TwoPassDistribution part = new TwoPassDistribution(LogBins.STANDARD);
     *     part.add(values, slice[0], slice[1]);
     *     d.merge(part);                                 // in slice order
     * }
     * d.startSecondPass(new long[0], new double[0]);
     * for (int[] slice : slices) {
     *     TwoPassDistribution part = d.secondPassPart();
     *     part.revisit(values, slice[0], slice[1]);
     *     d.merge(part);
     * }
     * Summary s = d.distribution().summary();
     * }</pre>
     */
    static final class TwoPassDistribution {
        private static final int BUCKETS = 1 << 16;
        private static final int LOW_BITS = 0xffff;
        private static final double Q_LOW = RankBuckets.Q_LOW;
        private static final double Q_HIGH = RankBuckets.Q_HIGH;

        private final LogBins bins;
        /** First-pass counters; a second-pass part shares its parent's (read only). */
        private final int[] bucketCounts;
        private final long[] binCounts;
        private long underflow;
        private long overflow;
        private long count;
        private double sum;

        private boolean secondPass;
        private double mean;
        private long revisited;
        private double sumSquaredDeviations;
        private double[] thresholds;
        private long[] aboveCounts;
        private long[] ranks;
        /** Per rank: its bucket and its offset among the values of that bucket. */
        private int[] rankBuckets;
        private long[] rankOffsets;
        /** Per bucket: index into lowCounts, or -1 if none of the ranks falls into it. */
        private int[] slotOfBucket;
        private int[][] lowCounts;

        TwoPassDistribution(LogBins bins) {
            this.bins = bins;
            this.bucketCounts = new int[BUCKETS];
            this.binCounts = new long[bins.bins()];
        }

        /** A second-pass part of {@code parent}: its first-pass results and ranks, its own second-pass counters. */
        private TwoPassDistribution(TwoPassDistribution parent) {
            this.bins = parent.bins;
            this.bucketCounts = parent.bucketCounts;
            this.binCounts = parent.binCounts;
            this.underflow = parent.underflow;
            this.overflow = parent.overflow;
            this.count = parent.count;
            this.sum = parent.sum;
            this.secondPass = true;
            this.mean = parent.mean;
            this.thresholds = parent.thresholds;
            this.aboveCounts = new long[thresholds.length];
            this.ranks = parent.ranks;
            this.rankBuckets = parent.rankBuckets;
            this.rankOffsets = parent.rankOffsets;
            this.slotOfBucket = parent.slotOfBucket;
            this.lowCounts = new int[parent.lowCounts.length][BUCKETS];
        }

        /** First pass: {@code values[from..to)}, non-negative and not NaN (the caller validates its input). */
        void add(float[] values, int from, int to) {
            checkPass(false);
            int[] counts = bucketCounts;
            double partialSum = 0;
            for (int k = from; k < to; k++) {
                float v = values[k] + 0f; // -0 to +0: raw bits order like values only from +0 up
                int bits = Float.floatToRawIntBits(v);
                int bucket = bits >>> 16;
                counts[bucket]++;
                if (bins.locateBucket(bucket) == LogBins.SPANS_EDGE) {
                    countInBin(bins.locateBits(bits), 1);
                }
                partialSum += v;
            }
            sum += partialSum;
            count += to - from;
        }

        /**
         * First pass, one value at a time, for callers that compute several quantities in one loop:
         * counts the value with raw bits {@code bits} (of a non-negative float, not -0 or NaN) without
         * its sum, which the caller adds with {@link #addSum} once per slice.
         */
        void count(int bits) {
            int bucket = bits >>> 16;
            bucketCounts[bucket]++;
            if (bins.locateBucket(bucket) == LogBins.SPANS_EDGE) {
                countInBin(bins.locateBits(bits), 1);
            }
        }

        /**
         * First pass: ends a slice of {@code n} values {@link #count counted} one by one, whose sum the
         * caller took in a double from zero in slice order, as {@link #add} does.
         */
        void addSum(double sliceSum, long n) {
            checkPass(false);
            sum += sliceSum;
            count += n;
        }

        /** Second pass, one value at a time (as {@link #count}): counts its low bits if its bucket holds a rank. */
        void revisitBits(int bits) {
            int slot = slotOfBucket[bits >>> 16];
            if (slot >= 0) {
                lowCounts[slot][bits & LOW_BITS]++;
            }
        }

        /**
         * Second pass: ends a slice of {@code n} values {@link #revisitBits revisited} one by one, whose
         * squared deviations from {@link #mean} the caller summed in a double from zero in slice order,
         * and of which {@code above[t]} were strictly above threshold t, as {@link #revisit} does.
         */
        void addSquaredDeviations(double sliceSum, long n, long[] above) {
            checkPass(true);
            sumSquaredDeviations += sliceSum;
            for (int t = 0; t < thresholds.length; t++) {
                aboveCounts[t] += above[t];
            }
            revisited += n;
        }

        /** The thresholds of the second pass, as given to {@link #startSecondPass}. */
        double threshold(int index) {
            return thresholds[index];
        }

        long count() {
            return count;
        }

        /** The mean of the values added so far. */
        double mean() {
            return sum / count;
        }

        /**
         * Ends the first pass. {@code extraRanks} are 0-based ranks in ascending order of value whose
         * exact values {@link #valueAtRank} will give besides the summary's; {@code aboveThresholds}
         * are values for which {@link #countAbove} will count the values strictly above.
         */
        void startSecondPass(long[] extraRanks, double[] aboveThresholds) {
            checkPass(false);
            if (count == 0) {
                throw new IllegalStateException("no values added");
            }
            secondPass = true;
            mean = sum / count;
            foldBucketsIntoBins();
            thresholds = aboveThresholds.clone();
            aboveCounts = new long[thresholds.length];

            RankBuckets located = RankBuckets.locate(bucket -> bucketCounts[bucket], count, extraRanks);
            ranks = located.ranks();
            rankBuckets = located.rankBuckets();
            rankOffsets = located.rankOffsets();
            slotOfBucket = located.slotOfBucket();
            lowCounts = new int[located.slots()][BUCKETS];
        }

        /** Second pass: the same values as the first pass, in any order and slicing. */
        void revisit(float[] values, int from, int to) {
            checkPass(true);
            int[] slots = slotOfBucket;
            double partialSum = 0;
            for (int k = from; k < to; k++) {
                float v = values[k] + 0f;
                double deviation = v - mean;
                partialSum += deviation * deviation;
                int bits = Float.floatToRawIntBits(v);
                int slot = slots[bits >>> 16];
                if (slot >= 0) {
                    lowCounts[slot][bits & LOW_BITS]++;
                }
            }
            sumSquaredDeviations += partialSum;
            for (int t = 0; t < thresholds.length; t++) {
                double threshold = thresholds[t];
                long above = 0;
                for (int k = from; k < to; k++) {
                    above += values[k] > threshold ? 1 : 0;
                }
                aboveCounts[t] += above;
            }
            revisited += to - from;
        }

        /**
         * An empty part for second-pass slices counted apart (e.g. on another thread), to be
         * {@link #merge merged} back into this instance. Its memory is this one's second-pass
         * counters: one 64K-int array per bucket holding a requested rank (at most 7 plus the extra ranks).
         */
        TwoPassDistribution secondPassPart() {
            checkPass(true);
            return new TwoPassDistribution(this);
        }

        /**
         * Adds what {@code part} counted to this instance, as if its values had been added (first pass)
         * or revisited (second pass) here after the values counted so far. In the first pass the part
         * is an instance with the same bins, still in its first pass; in the second pass it is one of
         * this instance's {@link #secondPassPart}s. The part must not be used afterwards.
         */
        void merge(TwoPassDistribution part) {
            if (part == this) {
                throw new IllegalArgumentException("cannot merge a distribution into itself");
            }
            if (!secondPass) {
                if (part.secondPass || part.bins != bins) {
                    throw new IllegalArgumentException("first pass: merge a first-pass distribution with the same bins");
                }
                int[] counts = part.bucketCounts;
                for (int bucket = 0; bucket < BUCKETS; bucket++) {
                    bucketCounts[bucket] += counts[bucket];
                }
                for (int bin = 0; bin < binCounts.length; bin++) {
                    binCounts[bin] += part.binCounts[bin];
                }
                underflow += part.underflow;
                overflow += part.overflow;
                count += part.count;
                sum += part.sum;
            } else {
                if (part.slotOfBucket != slotOfBucket) {
                    throw new IllegalArgumentException("second pass: merge a part made by this distribution's secondPassPart()");
                }
                for (int slot = 0; slot < lowCounts.length; slot++) {
                    int[] low = lowCounts[slot];
                    int[] partLow = part.lowCounts[slot];
                    for (int bits = 0; bits < BUCKETS; bits++) {
                        low[bits] += partLow[bits];
                    }
                }
                for (int t = 0; t < aboveCounts.length; t++) {
                    aboveCounts[t] += part.aboveCounts[t];
                }
                sumSquaredDeviations += part.sumSquaredDeviations;
                revisited += part.revisited;
            }
        }

        /**
         * The bucket (top 16 bits of the value) that holds rank {@code rank}, known once the second
         * pass has started; the rank must have been requested.
         */
        int bucketOfRank(long rank) {
            checkPass(true);
            for (int i = 0; i < ranks.length; i++) {
                if (ranks[i] == rank) {
                    return rankBuckets[i];
                }
            }
            throw new IllegalArgumentException("rank " + rank + " was not requested before the second pass");
        }

        /** The value of 0-based rank {@code rank} in ascending order; the rank must have been requested. */
        float valueAtRank(long rank) {
            checkComplete();
            for (int i = 0; i < ranks.length; i++) {
                if (ranks[i] == rank) {
                    int[] low = lowCounts[slotOfBucket[rankBuckets[i]]];
                    long seen = 0;
                    int bits = 0;
                    while (seen + low[bits] <= rankOffsets[i]) {
                        seen += low[bits++];
                    }
                    return Float.intBitsToFloat(rankBuckets[i] << 16 | bits);
                }
            }
            throw new IllegalArgumentException("rank " + rank + " was not requested before the second pass");
        }

        /** The number of values strictly above {@code aboveThresholds[index]} of the second pass. */
        long countAbove(int index) {
            checkComplete();
            return aboveCounts[index];
        }

        Distribution distribution() {
            checkComplete();
            double std = count > 1 ? Math.sqrt(sumSquaredDeviations / (count - 1)) : Double.NaN;
            Summary summary = new Summary(count, mean, std, valueAtRank(0), valueAtRank(count - 1), valueAtRank((count - 1) / 2),
                    quantile(Q_LOW), quantile(Q_HIGH));
            Histogram histogram = new Histogram(bins.edges(), binCounts, underflow, overflow);
            return new Distribution(summary, histogram);
        }

        /** torch.quantile's linear interpolation between the two ranks around q*(n-1). */
        private double quantile(double q) {
            double pos = q * (count - 1);
            long below = (long) Math.floor(pos);
            double start = valueAtRank(below);
            double end = valueAtRank((long) Math.ceil(pos));
            double weight = pos - below;
            // torch's lerp: exact at both ends, symmetric rounding in between
            return weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight);
        }

        private void foldBucketsIntoBins() {
            for (int bucket = 0; bucket < BUCKETS; bucket++) {
                int location = bins.locateBucket(bucket);
                if (bucketCounts[bucket] != 0 && location != LogBins.SPANS_EDGE) {
                    countInBin(location, bucketCounts[bucket]);
                }
            }
        }

        private void countInBin(int location, long n) {
            if (location < 0) {
                underflow += n;
            } else if (location >= binCounts.length) {
                overflow += n;
            }
            binCounts[Math.max(0, Math.min(binCounts.length - 1, location))] += n;
        }

        private void checkPass(boolean second) {
            if (secondPass != second) {
                throw new IllegalStateException(second ? "second pass not started" : "second pass already started");
            }
        }

        private void checkComplete() {
            if (!secondPass || revisited != count) {
                throw new IllegalStateException("second pass incomplete: " + revisited + " of " + count + " values revisited");
            }
        }
    }
}
