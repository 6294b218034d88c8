package io.layerscope.stats;

import io.layerscope.LayerscopeException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * Stage two's statistics as of commit 481f041 (issue 20's starting point), kept for
 * {@code io.layerscope.spark.StageTwoBenchmark} to time beside the current code: verbatim copies
 * of the classes changed since, nested here so that they shadow the current ones.
 */
public final class StageTwoBefore {
    private StageTwoBefore() {
    }

    /** The statistics of one layer on the calling thread, as the old {@code LayerStatistics.compute}. */
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
     * weights (two for the distributions, one for the masks once the layer threshold is known).
     *
     * <p>Threads: every pass cuts the rows into chunks of about a million entries (the chunk size
     * depends only on the layer's shape), counts each chunk into a part of its own and merges the
     * parts in chunk order. With a pool the chunks run on its threads, at most its parallelism at a
     * time, each holding one row of scratch and about 0.5 MB of counters (a few MB in the second
     * pass); without one they run on the calling thread. Either way the result is the same bits.
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
            Rows rows = new Rows(layer, w, actNorm, columnAbsSums(w, in, chunks), riaActivationFactors(actNorm));

            TwoPassDistribution activation = new TwoPassDistribution(LogBins.STANDARD);
            Parts all = Parts.create();
            activation.add(actNorm, 0, in);
            chunks.run((from, to) -> {
                Parts parts = Parts.create();
                rows.forEach(from, to, (i, absRow, wandaRow, riaRow) -> {
                    parts.weightAbs.add(absRow, 0, in);
                    parts.wanda.add(wandaRow, 0, in);
                    parts.ria.add(riaRow, 0, in);
                });
                return parts;
            }, all::merge);

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
            chunks.run((from, to) -> {
                Parts parts = all.secondPassParts();
                rows.forEach(from, to, (i, absRow, wandaRow, riaRow) -> {
                    parts.weightAbs.revisit(absRow, 0, in);
                    parts.wanda.revisit(wandaRow, 0, in);
                    parts.ria.revisit(riaRow, 0, in);
                });
                return parts;
            }, all::merge);

            float layerThreshold = all.weightAbs.valueAtRank(layerRank);
            float riaThreshold = all.ria.valueAtRank(layerRank);
            MaskComparison masks = new MaskComparison(in, sparsity, layerThreshold, riaThreshold,
                    gram == null ? null : new MaskErrors(gram, w, in));
            chunks.run((from, to) -> {
                MaskComparison part = masks.emptyPart();
                rows.forEach(from, to, (i, absRow, wandaRow, riaRow) -> part.addRow(i, absRow, wandaRow, riaRow));
                return part;
            }, masks::merge);

            double numel = w.length;
            OutlierRatios outliers = new OutlierRatios(all.wanda.countAbove(0) / numel, all.wanda.countAbove(1) / numel,
                    all.wanda.countAbove(2) / numel);
            return new LayerStats(out, in, all.weightAbs.distribution(), activation.distribution(), all.wanda.distribution(),
                    all.ria.distribution(), masks.agreement(sparsity), outliers, TopFeatures.largest(actNorm, TOP_FEATURES),
                    actNorm, masks.errors());
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

        /**
         * The rows of |W|, of the Wanda metric and of the RIA metric, made one at a time into scratch of
         * one row each.
         */
        private record Rows(String layer, float[] w, float[] actNorm, float[] columnAbsSums, float[] riaFactors) {
            interface Visitor {
                void visit(int row, float[] absRow, float[] wandaRow, float[] riaRow);
            }

            void forEach(int from, int to, Visitor visitor) {
                float[] absRow = new float[actNorm.length];
                float[] wandaRow = new float[actNorm.length];
                float[] riaRow = new float[actNorm.length];
                for (int i = from; i < to; i++) {
                    fillRow(i, absRow, wandaRow, riaRow);
                    visitor.visit(i, absRow, wandaRow, riaRow);
                }
            }

            /**
             * Row i of |W|, of Wanda's |W| * act_norm and of RIA's (|W|/column sum + |W|/row sum) *
             * sqrt(act_norm), in float32 as torch computes them. A zero row or column sum (all its
             * weights zero) makes its term 0 where torch would divide 0 by 0.
             */
            private void fillRow(int i, float[] absRow, float[] wandaRow, float[] riaRow) {
                int in = actNorm.length;
                int base = i * in;
                double rowSum = 0;
                for (int j = 0; j < in; j++) {
                    float abs = Math.abs(w[base + j]);
                    if (!(abs <= Float.MAX_VALUE)) {
                        throw nonFiniteWeight(layer, i, j, w[base + j]);
                    }
                    absRow[j] = abs;
                    wandaRow[j] = abs * actNorm[j];
                    rowSum += abs;
                }
                float rowSumF = (float) rowSum;
                for (int j = 0; j < in; j++) {
                    float abs = absRow[j];
                    float byColumn = columnAbsSums[j] > 0 ? abs / columnAbsSums[j] : 0f;
                    float byRow = rowSumF > 0 ? abs / rowSumF : 0f;
                    riaRow[j] = (byColumn + byRow) * riaFactors[j];
                }
            }
        }

        /** sqrt(scaler_row) in float32 (a double sqrt rounded to float is the correctly rounded float sqrt). */
        private static float[] activationNorms(String layer, float[] scalerRow) {
            float[] norms = new float[scalerRow.length];
            for (int j = 0; j < scalerRow.length; j++) {
                float s = scalerRow[j];
                if (!(s >= 0 && s <= Float.MAX_VALUE)) {
                    throw new LayerscopeException("Layer " + layer + ": scaler_row[" + j + "] is " + s
                            + ", but a mean of squared activations must be finite and non-negative. The calibration"
                            + " forward pass overflowed or produced NaN (from a non-finite weight, or an overflow).");
                }
                norms[j] = (float) Math.sqrt(s);
            }
            return norms;
        }

        private static void checkShapes(String layer, float[] w, int out, int in, float[] scalerRow) {
            if (out <= 0 || in <= 0 || (long) out * in != w.length) {
                throw new LayerscopeException("Layer " + layer + ": the weight has " + w.length
                        + " values but its shape [out, in] = [" + out + ", " + in + "] needs " + (long) out * in
                        + " (and both must be positive). Check that the tensor read matches the layer's shape in"
                        + " the checkpoint.");
            }
            if (scalerRow.length != in) {
                throw new LayerscopeException("Layer " + layer + ": scaler_row has " + scalerRow.length
                        + " values but the layer has in_features = " + in + ". The activation sums belong to a"
                        + " different tap; check the layer-to-tap mapping.");
            }
        }

        private static LayerscopeException nonFiniteWeight(String layer, int i, int j, float value) {
            return new LayerscopeException("Layer " + layer + ": weight entry [" + i + ", " + j + "] is " + value
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
        private static final double Q_LOW = 0.01;
        private static final double Q_HIGH = 0.99;

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
                int bucket = Float.floatToRawIntBits(v) >>> 16;
                counts[bucket]++;
                if (bins.locateBucket(bucket) == LogBins.SPANS_EDGE) {
                    countInBin(bins.locate(v), 1);
                }
                partialSum += v;
            }
            sum += partialSum;
            count += to - from;
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

            long[] summaryRanks = summaryRanks(count);
            ranks = Arrays.copyOf(summaryRanks, summaryRanks.length + extraRanks.length);
            System.arraycopy(extraRanks, 0, ranks, summaryRanks.length, extraRanks.length);
            rankBuckets = new int[ranks.length];
            rankOffsets = new long[ranks.length];
            slotOfBucket = new int[BUCKETS];
            Arrays.fill(slotOfBucket, -1);
            int slots = 0;
            for (int i = 0; i < ranks.length; i++) {
                if (ranks[i] < 0 || ranks[i] >= count) {
                    throw new IllegalArgumentException("rank " + ranks[i] + " outside 0.." + (count - 1));
                }
                long before = 0;
                int bucket = 0;
                while (before + bucketCounts[bucket] <= ranks[i]) {
                    before += bucketCounts[bucket++];
                }
                rankBuckets[i] = bucket;
                rankOffsets[i] = ranks[i] - before;
                if (slotOfBucket[bucket] < 0) {
                    slotOfBucket[bucket] = slots++;
                }
            }
            lowCounts = new int[slots][BUCKETS];
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

        private static long[] summaryRanks(long n) {
            double low = Q_LOW * (n - 1);
            double high = Q_HIGH * (n - 1);
            return new long[] {0, n - 1, (n - 1) / 2, (long) Math.floor(low), (long) Math.ceil(low),
                    (long) Math.floor(high), (long) Math.ceil(high)};
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

    /**
     * Builds Wanda's and magnitude pruning's masks row by row and counts where they agree, so no
     * full-size mask is ever held. Rows may be compared on several threads, one instance each (it
     * keeps scratch arrays), and the counts {@link #merge merged}: they are whole numbers, so the
     * result does not depend on how the rows were split.
     */
    static final class MaskComparison {
        private static final int N = 2;
        private static final int M = 4;

        private final RowPruner pruner;
        private final double sparsity;
        private final float layerThreshold;
        private final int layerThresholdBits;
        private final float riaThreshold;
        private final int riaThresholdBits;
        private final byte[] wandaRow;
        private final byte[] magnitudeRow;
        private final byte[] wandaNofM;
        private final byte[] magnitudeNofM;
        private long entries;
        private long agreeRow;
        private long agreeLayer;
        private long agreeNofM;
        private long layerPruned;
        private long agreeRiaWanda;
        private final MaskErrors errors;
        private final byte[] layerRow;
        private final byte[] riaRow;

        /**
         * @param layerThreshold the |W| value at rank floor(numel * sparsity), from the |W| distribution
         * @param riaThreshold   the RIA value at the same rank: RIA's layer-wise mask prunes RIA <= it
         */
        MaskComparison(int in, double sparsity, float layerThreshold, float riaThreshold) {
            this(in, sparsity, layerThreshold, riaThreshold, null);
        }

        /** As above, also summing the output error of every mask into {@code errors} (null: not). */
        MaskComparison(int in, double sparsity, float layerThreshold, float riaThreshold, MaskErrors errors) {
            this.pruner = new RowPruner(in, sparsity);
            this.sparsity = sparsity;
            this.layerThreshold = layerThreshold;
            this.layerThresholdBits = Float.floatToRawIntBits(layerThreshold + 0f);
            this.riaThreshold = riaThreshold;
            this.riaThresholdBits = Float.floatToRawIntBits(riaThreshold + 0f);
            this.wandaRow = new byte[in];
            this.magnitudeRow = new byte[in];
            this.wandaNofM = new byte[in];
            this.magnitudeNofM = new byte[in];
            this.errors = errors;
            this.layerRow = errors == null ? null : new byte[in];
            this.riaRow = errors == null ? null : new byte[in];
        }

        /** An empty comparison of the same layer for another chunk of rows (with its own error sums). */
        MaskComparison emptyPart() {
            return new MaskComparison(wandaRow.length, sparsity, layerThreshold, riaThreshold,
                    errors == null ? null : errors.emptyPart());
        }

        /**
         * One output row: its |W|, its Wanda metric and its RIA metric, all of length in (non-negative,
         * not NaN, as {@link RowPruner} checks). The masks are 0/1 bytes and counted by arithmetic: with about half
         * of the entries pruned, a branch per comparison would be mispredicted half the time.
         */
        void addRow(int i, float[] abs, float[] wanda, float[] ria) {
            pruner.unstructured(wanda, wandaRow);
            pruner.unstructured(abs, magnitudeRow);
            RowPruner.nOfM(wanda, N, M, wandaNofM);
            RowPruner.nOfM(abs, N, M, magnitudeNofM);
            int sameRow = 0;
            int sameLayer = 0;
            int sameNofM = 0;
            int underLayerThreshold = 0;
            int sameRiaWanda = 0;
            for (int j = 0; j < abs.length; j++) {
                // 1 where |W| <= the layer threshold: non-negative float bits order like the floats
                int layerMask = (layerThresholdBits - Float.floatToRawIntBits(abs[j] + 0f)) >>> 31 ^ 1;
                int riaMask = (riaThresholdBits - Float.floatToRawIntBits(ria[j] + 0f)) >>> 31 ^ 1;
                sameRiaWanda += 1 ^ wandaRow[j] ^ riaMask;
                if (errors != null) {
                    layerRow[j] = (byte) layerMask;
                    riaRow[j] = (byte) riaMask;
                }
                sameRow += 1 ^ wandaRow[j] ^ magnitudeRow[j];
                sameLayer += 1 ^ wandaRow[j] ^ layerMask;
                sameNofM += 1 ^ wandaNofM[j] ^ magnitudeNofM[j];
                underLayerThreshold += layerMask;
            }
            agreeRow += sameRow;
            agreeLayer += sameLayer;
            agreeNofM += sameNofM;
            layerPruned += underLayerThreshold;
            agreeRiaWanda += sameRiaWanda;
            entries += abs.length;
            if (errors != null) {
                errors.addRow(i, wandaRow, magnitudeRow, layerRow, wandaNofM, riaRow);
            }
        }

        /** Adds the rows {@code part} compared (same row length and layer threshold) to this instance's. */
        void merge(MaskComparison part) {
            if (part == this || part.wandaRow.length != wandaRow.length || part.pruner.pruneCount() != pruner.pruneCount()
                    || Float.floatToRawIntBits(part.layerThreshold) != Float.floatToRawIntBits(layerThreshold)
                    || Float.floatToRawIntBits(part.riaThreshold) != Float.floatToRawIntBits(riaThreshold)) {
                throw new IllegalArgumentException("merge a different comparison of the same row length and layer threshold");
            }
            entries += part.entries;
            agreeRow += part.agreeRow;
            agreeLayer += part.agreeLayer;
            agreeNofM += part.agreeNofM;
            layerPruned += part.layerPruned;
            agreeRiaWanda += part.agreeRiaWanda;
            if (errors != null) {
                errors.merge(part.errors);
            }
        }

        /** The output errors of the masks, or null when not asked for. */
        ReconstructionErrors errors() {
            return errors == null ? null : errors.errors();
        }

        MaskAgreement agreement(double sparsity) {
            double n = entries;
            return new MaskAgreement(sparsity, agreeRow / n, agreeLayer / n, agreeNofM / n, layerThreshold,
                    layerPruned / n, agreeRiaWanda / n, riaThreshold);
        }
    }

    /**
     * One row's pruning mask, as Wanda computes it: the scores of one output row (the Wanda metric or
     * |W| of its input columns) in, which entries are pruned out. Ties follow a stable ascending sort:
     * among equal scores the lower column is pruned first. Masks are bytes, 1 for pruned and 0 for kept,
     * so that callers can compare and count them by arithmetic, without a branch per entry.
     *
     * <p>Scores must be non-negative and not NaN (infinity is allowed): their float bits then order like the scores, and
     * packed above the column index into a long they order exactly like (score, column), which makes
     * a fast selection stable. The cut is found by counting the scores by exponent and top four
     * mantissa bits (buckets of a sixteenth of a power of two), then selecting among the few scores in
     * the cut's bucket: about 3 microseconds for a row of 512.
     *
     * <pre>{@code
     * RowPruner pruner = new RowPruner(4, 0.5);
     * byte[] pruned = new byte[4];
     * pruner.unstructured(new float[] {0.3f, 0.1f, 0.1f, 0.9f}, pruned);   // {0, 1, 1, 0}
     * RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f}, 2, 4, pruned);          // {1, 1, 0, 0}
     * }</pre>
     *
     * <p>An instance keeps scratch arrays: use one per thread.
     */
    static final class RowPruner {
        private static final int PREFIX_SHIFT = 19;
        private static final int INFINITY_BITS = 0x7f800000;

        private final int columns;
        private final int pruneCount;
        /** Zero between calls: each call clears the buckets it used. */
        private final int[] prefixCounts = new int[(INFINITY_BITS >>> PREFIX_SHIFT) + 1];
        private final long[] candidates;

        /**
         * @param columns  row length (in_features)
         * @param sparsity share to prune; each row prunes {@code floor(columns * sparsity)} entries,
         *                 as Wanda's {@code int(W_metric.shape[1] * sparsity_ratio)}
         */
        public RowPruner(int columns, double sparsity) {
            if (columns <= 0 || !(sparsity >= 0 && sparsity <= 1)) {
                throw new IllegalArgumentException("need columns > 0 and sparsity in [0, 1], got " + columns + ", " + sparsity);
            }
            this.columns = columns;
            this.pruneCount = (int) (columns * sparsity);
            this.candidates = new long[columns];
        }

        /** How many entries {@link #unstructured} prunes per row. */
        public int pruneCount() {
            return pruneCount;
        }

        /** Sets {@code pruned[j]} to 1 for the {@code pruneCount()} smallest scores of the row (stable), else 0. */
        public void unstructured(float[] scores, byte[] pruned) {
            checkLength(scores, pruned);
            if (pruneCount == 0) {
                Arrays.fill(pruned, 0, columns, (byte) 0);
                return;
            }
            // Zeros (bucket 0) aside, scores of a row span a few powers of two: the scan for the cut
            // starts at the lowest bucket used, and only the buckets used are cleared afterwards.
            int lowest = prefixCounts.length;
            int highest = 0;
            for (int j = 0; j < columns; j++) {
                int bits = bits(scores[j]);
                if (bits < 0 || bits > INFINITY_BITS) {
                    clear(lowest, highest);
                    throw new IllegalArgumentException("score " + scores[j] + " at column " + j
                            + " is negative or NaN");
                }
                int bucket = bits >>> PREFIX_SHIFT;
                prefixCounts[bucket]++;
                if (bucket != 0) {
                    lowest = Math.min(lowest, bucket);
                    highest = Math.max(highest, bucket);
                }
            }
            int rank = pruneCount - 1;
            int prefix = 0;
            int before = prefixCounts[0];
            if (before <= rank) {
                prefix = lowest;
                while (before + prefixCounts[prefix] <= rank) {
                    before += prefixCounts[prefix++];
                }
            } else {
                before = 0;
            }
            int found = 0;
            for (int j = 0; j < columns; j++) {
                int bits = bits(scores[j]);
                if (bits >>> PREFIX_SHIFT == prefix) {
                    candidates[found++] = (long) bits << 32 | j;
                }
            }
            clear(lowest, highest);
            long last = LongSelection.select(candidates, found, rank - before);
            for (int j = 0; j < columns; j++) {
                pruned[j] = (byte) ((key(scores[j], j) - last - 1) >>> 63);   // 1 where key <= last
            }
        }

        /** Zeroes the buckets a call used: bucket 0 (zeros) and those from lowest to highest. */
        private void clear(int lowest, int highest) {
            prefixCounts[0] = 0;
            if (lowest <= highest) {
                Arrays.fill(prefixCounts, lowest, highest + 1, 0);
            }
        }

        /**
         * N:M semi-structured: in each group of {@code m} consecutive columns starting at column 0,
         * marks the {@code n} smallest scores (stable). A trailing group shorter than {@code m} (when
         * the row length is not a multiple of m) is left unpruned: Wanda's loop would prune
         * {@code n} of a short group or fail on it, and a partial group is no N:M pattern hardware
         * can use. Scores as for {@link #unstructured} (non-negative, not NaN), which checks them; this
         * does not.
         */
        public static void nOfM(float[] scores, int n, int m, byte[] pruned) {
            if (n < 0 || n > m || scores.length > pruned.length) {
                throw new IllegalArgumentException("need 0 <= n <= m and a mask as long as the scores, got n="
                        + n + " m=" + m + " scores=" + scores.length + " mask=" + pruned.length);
            }
            int whole = scores.length - scores.length % m;
            if (n == 2 && m == 4) {
                twoOfFour(scores, whole, pruned);
            } else {
                int[] group = new int[m];
                for (int g = 0; g < whole; g += m) {
                    for (int t = 0; t < m; t++) {
                        group[t] = bits(scores[g + t]);
                    }
                    for (int t = 0; t < m; t++) {
                        pruned[g + t] = (byte) (rank(group, t) < n ? 1 : 0);
                    }
                }
            }
            Arrays.fill(pruned, whole, scores.length, (byte) 0);
        }

        /** How many of the group order before entry t: smaller, or equal at a lower column. */
        private static int rank(int[] group, int t) {
            int smaller = 0;
            for (int l = 0; l < group.length; l++) {
                smaller += l < t ? (group[l] <= group[t] ? 1 : 0) : (group[l] < group[t] ? 1 : 0);
            }
            return smaller;
        }

        /** 2:4, the pattern sparse tensor cores use, with each entry's rank written out: no loops, no branches. */
        private static void twoOfFour(float[] scores, int whole, byte[] pruned) {
            for (int g = 0; g < whole; g += 4) {
                int a = bits(scores[g]);
                int b = bits(scores[g + 1]);
                int c = bits(scores[g + 2]);
                int d = bits(scores[g + 3]);
                int rankA = below(b, a) + below(c, a) + below(d, a);
                int rankB = atMost(a, b) + below(c, b) + below(d, b);
                int rankC = atMost(a, c) + atMost(b, c) + below(d, c);
                int rankD = atMost(a, d) + atMost(b, d) + atMost(c, d);
                pruned[g] = (byte) below(rankA, 2);
                pruned[g + 1] = (byte) below(rankB, 2);
                pruned[g + 2] = (byte) below(rankC, 2);
                pruned[g + 3] = (byte) below(rankD, 2);
            }
        }

        /** 1 if x < y, else 0, for x and y of at most 31 bits (non-negative score bits, ranks). */
        private static int below(int x, int y) {
            return (x - y) >>> 31;
        }

        /** 1 if x <= y, else 0, as {@link #below}. */
        private static int atMost(int x, int y) {
            return (x - y - 1) >>> 31;
        }

        private void checkLength(float[] scores, byte[] pruned) {
            if (scores.length < columns || pruned.length < columns) {
                throw new IllegalArgumentException("row of " + columns + " columns, got scores of "
                        + scores.length + " and a mask of " + pruned.length);
            }
        }

        /** (score, column) packed so that long order is score order, then column order. */
        private static long key(float score, int column) {
            return (long) bits(score) << 32 | column;
        }

        /** + 0f turns -0 into +0, whose bits order with the other non-negative floats. */
        private static int bits(float score) {
            return Float.floatToRawIntBits(score + 0f);
        }
    }

    /**
     * The k-th smallest of distinct longs in expected linear time (quickselect with a median-of-three
     * pivot), falling back to a full sort if the partitions keep coming out lopsided, so the worst
     * case stays O(n log n).
     */
    static final class LongSelection {
        private static final int INSERTION_SORT_BELOW = 16;

        private LongSelection() {
        }

        /** The {@code k}-th smallest (0-based) of {@code a[0..n)}, reordering that range. */
        static long select(long[] a, int n, int k) {
            if (k < 0 || k >= n) {
                throw new IllegalArgumentException("rank " + k + " outside 0.." + (n - 1));
            }
            int lo = 0;
            int hi = n - 1;
            int partitionsLeft = 2 * (32 - Integer.numberOfLeadingZeros(n)) + 4;
            while (hi - lo >= INSERTION_SORT_BELOW) {
                if (partitionsLeft-- == 0) {
                    Arrays.sort(a, lo, hi + 1);
                    return a[k];
                }
                long pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
                int i = lo;
                int j = hi;
                while (i <= j) {
                    while (a[i] < pivot) {
                        i++;
                    }
                    while (a[j] > pivot) {
                        j--;
                    }
                    if (i <= j) {
                        long t = a[i];
                        a[i++] = a[j];
                        a[j--] = t;
                    }
                }
                // now a[lo..j] <= pivot <= a[i..hi], and anything between equals the pivot
                if (k <= j) {
                    hi = j;
                } else if (k >= i) {
                    lo = i;
                } else {
                    return a[k];
                }
            }
            insertionSort(a, lo, hi);
            return a[k];
        }

        private static long medianOfThree(long x, long y, long z) {
            return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
        }

        private static void insertionSort(long[] a, int lo, int hi) {
            for (int i = lo + 1; i <= hi; i++) {
                long v = a[i];
                int j = i - 1;
                while (j >= lo && a[j] > v) {
                    a[j + 1] = a[j];
                    j--;
                }
                a[j + 1] = v;
            }
        }
    }

    /**
     * A layer's rows cut into chunks of a fixed number of rows, and passes over them: each chunk is
     * computed into a part of its own (on a pool, or on the calling thread), and the parts are merged
     * on the calling thread in chunk order. The chunks depend only on the layer's shape, so the merged
     * result (double sums included) is the same bits whatever the number of threads.
     *
     * <p>Memory: at most as many parts as the pool has threads are in flight (submitted and not yet
     * merged); the next chunk is submitted when the oldest part has been merged.
     */
    static final class RowChunks {
        /** About this many weight entries per chunk: large enough that merging a part costs little beside computing it. */
        static final int ENTRIES_PER_CHUNK = 1 << 20;

        /** Computes the part of rows {@code [from, to)}. */
        interface Pass<P> {
            P compute(int from, int to);
        }

        private final int rows;
        private final int rowsPerChunk;
        private final ForkJoinPool pool;

        /**
         * @param pool where chunks run, or null for the calling thread
         */
        RowChunks(int rows, int rowsPerChunk, ForkJoinPool pool) {
            if (rows <= 0 || rowsPerChunk <= 0) {
                throw new IllegalArgumentException("need rows > 0 and rowsPerChunk > 0, got " + rows + ", " + rowsPerChunk);
            }
            this.rows = rows;
            this.rowsPerChunk = rowsPerChunk;
            this.pool = pool;
        }

        /** Rows per chunk for rows of {@code columns} entries: about {@link #ENTRIES_PER_CHUNK} entries, at least one row. */
        static int rowsPerChunk(int columns) {
            return Math.max(1, ENTRIES_PER_CHUNK / Math.max(1, columns));
        }

        int chunks() {
            return (int) (((long) rows + rowsPerChunk - 1) / rowsPerChunk);
        }

        /**
         * Computes every chunk's part with {@code pass} and hands the parts to {@code merge} in chunk
         * order, on the calling thread. If chunks fail, the failure of the first failing chunk in order
         * is thrown (as a sequential loop would), after the chunks before it were merged.
         */
        <P> void run(Pass<P> pass, Consumer<P> merge) {
            int chunks = chunks();
            if (pool == null) {
                for (int c = 0; c < chunks; c++) {
                    merge.accept(pass.compute(from(c), to(c)));
                }
                return;
            }
            int window = Math.max(1, pool.getParallelism());
            ArrayDeque<CompletableFuture<P>> inFlight = new ArrayDeque<>();
            int next = 0;
            try {
                for (int c = 0; c < chunks; c++) {
                    for (; next < chunks && next < c + window; next++) {
                        int from = from(next);
                        int to = to(next);
                        inFlight.add(CompletableFuture.supplyAsync(() -> pass.compute(from, to), pool));
                    }
                    merge.accept(await(inFlight.poll()));
                }
            } finally {
                inFlight.forEach(task -> task.cancel(false));
            }
        }

        private int from(int chunk) {
            return chunk * rowsPerChunk;
        }

        private int to(int chunk) {
            return (int) Math.min(rows, (long) (chunk + 1) * rowsPerChunk);
        }

        /**
         * The task's part, or the very exception the pass threw (a ForkJoinTask would hand back a
         * copy made by reflection, whose message is the original's toString()).
         */
        private static <P> P await(CompletableFuture<P> task) {
            try {
                return task.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error error) {
                    throw error;
                }
                throw new IllegalStateException(cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted while waiting for a chunk of rows");
            }
        }
    }
}
