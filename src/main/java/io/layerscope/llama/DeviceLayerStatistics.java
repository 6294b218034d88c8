package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.stats.CountedDistribution;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.LayerStats;
import io.layerscope.stats.LogBins;
import io.layerscope.stats.MaskAgreement;
import io.layerscope.stats.OutlierRatios;
import io.layerscope.stats.TopFeatures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A layer's {@link LayerStats} computed with libtorch operations on a device (a GPU executor's, or
 * the CPU): the same statistics as {@link LayerStatistics#compute}, with the same masks (ties
 * included) and the same order statistics, bit for bit; only the double sums (mean, std, and the
 * column and row sums RIA divides by) are added in another order.
 *
 * <p>The weight goes to the device in blocks of whole rows, four times (column sums; first pass
 * of the three distributions; their second pass; the masks), so the device never holds more than
 * one block and its temporaries (at most about 530 bytes per entry of a block, see
 * {@link #GPU_BLOCK_ENTRIES}) besides O(in) vectors; the host holds the radix counters of
 * {@link CountedDistribution}. Each block's results come back as a few counts: per top-16-bit
 * pattern of the values' float32 bits and per histogram location (first pass), per distinct value
 * in the buckets holding a requested rank (second pass), the masks' agreement counts (last pass).
 * libtorch has no bit reinterpretation in DJL's API, so the first pass computes the buckets (the top
 * 16 bits) in float32 arithmetic, exactly (exponent by log2, corrected against a table of powers of
 * two; the top of the mantissa by an exact division).
 *
 * <p>What stays on the host, and why: sqrt(scaler_row), its distribution and the top features are
 * O(in) (a few thousand values: a device round trip costs more than the work); locating each
 * rank's bucket in the 65536 counters and interpolating the quantiles is O(65536) once per layer.
 *
 * <p>The Gram-matrix output errors (--gram) are not computed here: the caller uses the
 * plain-Java path for a layer with a Gram matrix.
 */
public final class DeviceLayerStatistics {
    /**
     * Entries per block on a GPU: 4 Mi, so that a kernel launch (a few microseconds) is small beside
     * the work it launches. A block and its temporaries hold about 530 bytes per entry at most
     * (counted by {@link OpTally}), 2.2 GB.
     */
    public static final long GPU_BLOCK_ENTRIES = 1L << 22;
    /**
     * Entries per block on the CPU: 64 Ki. libtorch's CPU allocator hands arrays of tens of MB
     * straight to and from the kernel, so every operation on a big block pays fresh page faults
     * (more than the arithmetic: docs/PERFORMANCE.md, statistics on the device); at this size the arrays come from the reused heap.
     */
    public static final long CPU_BLOCK_ENTRIES = 1L << 16;
    private static final int N = 2;
    private static final int M = 4;
    /** OWL's multipliers, in the order of {@link OutlierRatios}' fields. */
    private static final double[] OUTLIER_MULTIPLIERS = {3, 5, 7};

    private final NDManager layer;
    private final String name;
    private final float[] w;
    private final int out;
    private final int in;
    private final int rowsPerBlock;
    private final ByteBuffer staging;
    private final OpTally tally = new OpTally();
    /** The top 16 bits of the values' float32 bits, computed exactly in float32 arithmetic. */
    private final ExactFloatBits exactBits;
    /**
     * -inf, the 129 edges of LogBins.STANDARD, +inf: the bounds of every histogram location -1..128,
     * each edge as the smallest float32 at or above it, so that float32 values compare with them in
     * float32 as they would with the double edges: v < e exactly when v < ceil32(e).
     */
    private final NDArray locationBounds;

    private DeviceLayerStatistics(NDManager layer, String name, float[] w, int out, int in, long blockEntries) {
        this.layer = layer;
        this.name = name;
        this.w = w;
        this.out = out;
        this.in = in;
        this.rowsPerBlock = (int) Math.max(1, Math.min(out, blockEntries / in));
        this.staging = ByteBuffer.allocateDirect(rowsPerBlock * in * Float.BYTES).order(ByteOrder.nativeOrder());
        this.exactBits = new ExactFloatBits(layer);
        double[] edges = LogBins.STANDARD.edges();
        float[] bounds = new float[edges.length + 2];
        bounds[0] = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < edges.length; k++) {
            bounds[k + 1] = ceil32(edges[k]);
        }
        bounds[bounds.length - 1] = Float.POSITIVE_INFINITY;
        this.locationBounds = DeviceArrays.floats(layer, bounds, new Shape(bounds.length));
    }

    /**
     * A layer's statistics, what computing them cost on the device, and per column asked for the rows
     * whose Wanda row mask prunes it (null when none were asked for).
     */
    public record Result(LayerStats stats, OpTally.Counts ops, int[] wandaPrunedRows) {
    }

    /**
     * The statistics of a layer on {@code device}, as {@link LayerStatistics#compute(String, float[],
     * int, int, float[], double, java.util.concurrent.ForkJoinPool, io.layerscope.stats.GramProducts)}
     * without a Gram matrix computes them.
     *
     * @throws io.layerscope.LayerscopeException as the plain-Java path, with the same message, for bad shapes,
     *                                           a bad scaler_row or a non-finite weight
     */
    public static LayerStats compute(Device device, String layer, float[] w, int out, int in, float[] scalerRow,
                                     double sparsity) {
        return compute(device, layer, w, out, in, scalerRow, sparsity, blockEntries(device), null).stats();
    }

    /** The block size for {@code device}: {@link #GPU_BLOCK_ENTRIES} or {@link #CPU_BLOCK_ENTRIES}. */
    public static long blockEntries(Device device) {
        return device.isGpu() ? GPU_BLOCK_ENTRIES : CPU_BLOCK_ENTRIES;
    }

    /**
     * As above, in blocks of about {@code blockEntries} entries (whole rows, at least one), with the op
     * counts, and for each of {@code columns} (null: none; as {@link io.layerscope.stats.LayerByProducts#wandaPrunedRows(int[])})
     * the rows whose Wanda row mask prunes it.
     */
    public static Result compute(Device device, String layer, float[] w, int out, int in, float[] scalerRow,
                                 double sparsity, long blockEntries, int[] columns) {
        if (!(sparsity > 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity " + sparsity + " must be between 0 and 1 (exclusive)");
        }
        float[] actNorm = LayerStatistics.checkedActivationNorms(layer, w, out, in, scalerRow);
        try (NDManager manager = NativeLibrary.engine().newBaseManager(device)) {
            DeviceLayerStatistics d = new DeviceLayerStatistics(manager, layer, w, out, in, blockEntries);
            int[] prunedPerColumn = columns == null ? null : new int[in];
            LayerStats stats = d.run(actNorm, sparsity, prunedPerColumn);
            int[] prunedRows = columns == null ? null : java.util.Arrays.stream(columns).map(c -> prunedPerColumn[c]).toArray();
            return new Result(stats, d.tally.counts(), prunedRows);
        }
    }

    private LayerStats run(float[] actNorm, double sparsity, int[] prunedPerColumn) {
        float[] riaFactors = io.layerscope.stats.ActivationNorms.riaFactors(actNorm);
        Shape row = new Shape(in);
        NDArray norms = DeviceArrays.floats(layer, actNorm, row);
        NDArray factors = DeviceArrays.floats(layer, riaFactors, row);
        NDArray columnDivisors = DeviceArrays.floats(layer, columnDivisors(), row);
        Metrics metrics = new Metrics(norms, factors, columnDivisors);

        CountedDistribution[] dists = {new CountedDistribution(), new CountedDistribution(), new CountedDistribution()};
        forEachBlock((scope, r0, r1) -> {
            NDArray[] q = metrics.of(upload(scope, r0, r1));
            for (int k = 0; k < 3; k++) {
                firstPass(scope, q[k].reshape(-1), dists[k]);
            }
        });

        long numel = (long) out * in;
        long layerRank = (long) ((double) numel * sparsity);
        int[][] slots = {dists[0].startSecondPass(layerRank), dists[1].startSecondPass(),
                dists[2].startSecondPass(layerRank)};
        int[][] rankBuckets = new int[3][];
        for (int k = 0; k < 3; k++) {
            rankBuckets[k] = bucketsBySlot(slots[k]);
        }
        double[] outlierThresholds = new double[OUTLIER_MULTIPLIERS.length];
        for (int m = 0; m < outlierThresholds.length; m++) {
            outlierThresholds[m] = OUTLIER_MULTIPLIERS[m] * dists[1].mean();
        }
        long[] above = new long[outlierThresholds.length];
        forEachBlock((scope, r0, r1) -> {
            NDArray[] q = metrics.of(upload(scope, r0, r1));
            for (int k = 0; k < 3; k++) {
                long[] counts = secondPass(scope, q[k].reshape(-1), dists[k], rankBuckets[k],
                        k == 1 ? outlierThresholds : new double[0]);
                for (int m = 0; m < counts.length; m++) {
                    above[m] += counts[m];
                }
            }
        });

        float layerThreshold = dists[0].valueAtRank(layerRank);
        float riaThreshold = dists[2].valueAtRank(layerRank);
        int pruneCount = (int) (in * sparsity);
        long[] agree = new long[5];
        forEachBlock((scope, r0, r1) -> {
            NDArray[] q = metrics.of(upload(scope, r0, r1));
            long[] counts = agreements(q[0], q[1], q[2], pruneCount, layerThreshold, riaThreshold, prunedPerColumn);
            for (int c = 0; c < agree.length; c++) {
                agree[c] += counts[c];
            }
        });

        double n = numel;
        MaskAgreement masks = new MaskAgreement(sparsity, agree[0] / n, agree[1] / n, agree[2] / n, layerThreshold,
                agree[3] / n, agree[4] / n, riaThreshold);
        OutlierRatios outliers = new OutlierRatios(above[0] / n, above[1] / n, above[2] / n);
        return new LayerStats(out, in, dists[0].distribution(), CountedDistribution.of(actNorm), dists[1].distribution(),
                dists[2].distribution(), masks, outliers, TopFeatures.largest(actNorm, LayerStatistics.TOP_FEATURES),
                actNorm, null);
    }

    /**
     * Per column, the float32 sum of |W| RIA divides by (a float64 sum rounded once, as the plain
     * path), with 1 in place of 0: an all-zero column's terms are then 0/1 = 0, the plain path's 0.
     * Checks every weight on the way, and throws the plain path's error at the first non-finite one.
     */
    private float[] columnDivisors() {
        NDArray sums = DeviceArrays.zeros(layer, new Shape(in), DataType.FLOAT64);
        forEachBlock((scope, r0, r1) -> {
            NDArray abs = upload(scope, r0, r1).abs();
            if (abs.isInfinite().logicalOr(abs.isNaN()).any().getBoolean()) {
                throw firstNonFinite(r0, r1);
            }
            sums.addi(DeviceArrays.cast(abs, DataType.FLOAT64).sum(new int[] {0}));
        });
        float[] divisors = DeviceArrays.cast(sums, DataType.FLOAT32).toFloatArray();
        for (int j = 0; j < in; j++) {
            divisors[j] = divisors[j] > 0 ? divisors[j] : 1f;
        }
        return divisors;
    }

    private RuntimeException firstNonFinite(int r0, int r1) {
        for (int i = r0; i < r1; i++) {
            for (int j = 0; j < in; j++) {
                float v = w[i * in + j];
                if (!(Math.abs(v) <= Float.MAX_VALUE)) {
                    return LayerStatistics.nonFiniteWeightError(name, i, j, v);
                }
            }
        }
        throw new IllegalStateException("libtorch found a non-finite weight in rows " + r0 + ".." + r1 + " the host did not");
    }

    /** |W|, Wanda's |W| * act_norm and RIA's (|W|/column sum + |W|/row sum) * sqrt(act_norm) of a block, in float32. */
    private record Metrics(NDArray norms, NDArray riaFactors, NDArray columnDivisors) {
        NDArray[] of(NDArray block) {
            NDArray abs = block.abs();
            NDArray wanda = abs.mul(norms);
            NDArray rowSums = DeviceArrays.cast(DeviceArrays.cast(abs, DataType.FLOAT64).sum(new int[] {1}, true),
                    DataType.FLOAT32);
            NDArray rowDivisors = rowSums.add(DeviceArrays.cast(rowSums.eq(0f), DataType.FLOAT32));
            NDArray ria = abs.div(columnDivisors).add(abs.div(rowDivisors)).mul(riaFactors);
            return new NDArray[] {abs, wanda, ria};
        }
    }

    /** Count, sum, top-16-bit buckets and histogram locations of one quantity's block (flat). */
    private void firstPass(NDManager parent, NDArray values, CountedDistribution dist) {
        try (NDManager scope = tally.open(parent)) {
            NDArray x = DeviceArrays.cast(values, DataType.FLOAT64);
            x.attach(scope);
            double sum = x.sum().getDouble();
            // a bucket is the top 16 bits of the float32 bits, which float32 arithmetic gives exactly
            NDArray v = DeviceArrays.copy(values, DataType.FLOAT32);
            v.attach(scope);
            // both keys fit in int32 (0..0x7f80 and -1..128): unique sorts them, in half the bytes of int64
            NDList b = DeviceArrays.cast(exactBits.top16(v), DataType.INT32).unique(null, true, false, true);
            dist.addBuckets(widened(b.get(0)), b.get(b.size() - 1).toLongArray());
            NDList l = DeviceArrays.cast(locations(v), DataType.INT32).unique(null, true, false, true);
            dist.addLocations(widened(l.get(0)), l.get(l.size() - 1).toLongArray());
            dist.addSum(values.size(), sum);
            tally.close(scope);
        }
    }

    /** An int32 array's values on the host, as the distribution takes them. */
    private static long[] widened(NDArray int32Keys) {
        return Arrays.stream(int32Keys.toIntArray()).asLongStream().toArray();
    }

    /** The buckets holding a requested rank, indexed by their slot. */
    private static int[] bucketsBySlot(int[] slotOfBucket) {
        int slots = 0;
        for (int slot : slotOfBucket) {
            slots = Math.max(slots, slot + 1);
        }
        int[] buckets = new int[slots];
        for (int b = 0; b < slotOfBucket.length; b++) {
            if (slotOfBucket[b] >= 0) {
                buckets[slotOfBucket[b]] = b;
            }
        }
        return buckets;
    }

    /**
     * Squared deviations, the counts of the distinct values in each bucket holding a requested rank
     * (a bucket is a range of float32 values: those whose bits start with its 16 bits; the host
     * reads the low 16 bits off the distinct values), and the counts above {@code thresholds}, of
     * one quantity's block (flat).
     */
    private long[] secondPass(NDManager parent, NDArray values, CountedDistribution dist, int[] rankBuckets,
                              double[] thresholds) {
        try (NDManager scope = tally.open(parent)) {
            NDArray x = DeviceArrays.cast(values, DataType.FLOAT64);
            x.attach(scope);
            NDArray deviation = x.sub(dist.mean());
            dist.addSquaredDeviations(deviation.mul(deviation).sum().getDouble());
            NDArray flat = values.duplicate();
            flat.attach(scope);
            for (int slot = 0; slot < rankBuckets.length; slot++) {
                float low = Float.intBitsToFloat(rankBuckets[slot] << 16);
                float high = Float.intBitsToFloat(rankBuckets[slot] << 16 | 0xffff);
                // the bucket of +inf has NaN patterns above it: its range is open upwards
                NDArray in = Float.isNaN(high) ? flat.gte(low) : flat.gte(low).logicalAnd(flat.lte(high));
                NDArray selected = flat.booleanMask(in);
                if (selected.size() > 0) {
                    NDList u = selected.unique(null, true, false, true);
                    float[] distinct = u.get(0).toFloatArray();
                    long[] keys = new long[distinct.length];
                    for (int i = 0; i < distinct.length; i++) {
                        keys[i] = (long) slot << 16 | (Float.floatToRawIntBits(distinct[i] + 0f) & 0xffff);
                    }
                    dist.addLowBits(keys, u.get(u.size() - 1).toLongArray());
                }
            }
            long[] above = new long[thresholds.length];
            if (thresholds.length > 0) {
                NDList counts = new NDList();
                for (double t : thresholds) {
                    counts.add(x.gt(t).sum());
                }
                above = NDArrays.stack(counts).toLongArray();
            }
            tally.close(scope);
            return above;
        }
    }

    /**
     * {@link LogBins#STANDARD}'s location of each float32 value, in float32 (half the bytes of float64):
     * log10 guesses it, within one location of the right one, and the edges settle it exactly.
     */
    private NDArray locations(NDArray v) {
        NDArray guess = v.log10().add(10).mul(8).floor().clip(-1, 128);
        NDArray index = DeviceArrays.cast(guess.add(1), DataType.INT64);
        NDArray below = DeviceArrays.cast(v.lt(locationBounds.take(v.getManager(), index)), DataType.FLOAT32);
        NDArray atOrAbove = DeviceArrays.cast(v.gte(locationBounds.take(v.getManager(), index.add(1L))), DataType.FLOAT32);
        return guess.sub(below).add(atOrAbove).clip(-1, 128);
    }

    /** The smallest float32 at or above {@code e} (a histogram edge, finite and positive). */
    static float ceil32(double e) {
        float f = (float) e;
        return f < e ? Math.nextUp(f) : f;
    }

    /**
     * The five agreement counts of a block: Wanda row vs magnitude row, Wanda row vs the layer
     * mask, Wanda 2:4 vs magnitude 2:4, the layer mask's pruned entries, RIA's layer mask vs Wanda row;
     * and, added into {@code prunedPerColumn} unless null, the block's rows whose Wanda row mask prunes each column.
     */
    private long[] agreements(NDArray abs, NDArray wanda, NDArray ria, int pruneCount, float layerThreshold,
                              float riaThreshold, int[] prunedPerColumn) {
        NDArray wandaRow = smallest(wanda, pruneCount, 1);
        NDArray magnitudeRow = smallest(abs, pruneCount, 1);
        NDArray layerMask = abs.lte(layerThreshold);
        NDArray riaMask = ria.lte(riaThreshold);
        int rows = (int) abs.getShape().get(0);
        int whole = in - in % M;
        NDList counts = new NDList(wandaRow.eq(magnitudeRow).sum(), wandaRow.eq(layerMask).sum(), layerMask.sum(),
                wandaRow.eq(riaMask).sum());
        if (whole > 0) {
            NDIndex groups = new NDIndex(":, :" + whole);
            Shape grouped = new Shape(rows, whole / M, M);
            NDArray wandaNofM = smallest(wanda.get(groups).reshape(grouped), N, 2);
            NDArray magnitudeNofM = smallest(abs.get(groups).reshape(grouped), N, 2);
            counts.add(wandaNofM.eq(magnitudeNofM).sum());
        }
        // one copy to the host: the counts, then the block's pruned rows per column
        int n = counts.size();
        long[] c = (prunedPerColumn == null ? NDArrays.stack(counts)
                : NDArrays.concat(new NDList(NDArrays.stack(counts), wandaRow.sum(new int[] {0})))).toLongArray();
        if (prunedPerColumn != null) {
            for (int j = 0; j < in; j++) {
                prunedPerColumn[j] += (int) c[n + j];
            }
        }
        // a trailing partial group is left unpruned by both 2:4 masks: it agrees
        long sameNofM = (whole > 0 ? c[4] : 0) + (long) rows * (in - whole);
        return new long[] {c[0], c[1], sameNofM, c[2], c[3]};
    }

    /**
     * Along {@code axis} (the last), the {@code k} smallest of each row or group, ties to the lower
     * index, as a stable ascending sort would put them first: below the k-th smallest value t all
     * are in; of those equal to t, the first k - (number below t) by position.
     */
    static NDArray smallest(NDArray x, int k, int axis) {
        if (k == 0) {
            return x.lt(Float.NEGATIVE_INFINITY);
        }
        int last = (int) x.getShape().get(axis);
        NDIndex kth = axis == 1 ? new NDIndex(":, " + (k - 1) + ":" + k) : new NDIndex(":, :, " + (k - 1) + ":" + k);
        NDArray t = x.sort(axis).get(kth);
        NDArray below = x.lt(t);
        NDArray equal = x.eq(t);
        NDArray belowCount = below.sum(new int[] {axis}, true);
        NDArray equalRank = equal.cumSum(axis);
        assert last >= k;
        return below.logicalOr(equal.logicalAnd(equalRank.add(belowCount).lte((long) k)));
    }

    private interface BlockPass {
        void run(NDManager scope, int r0, int r1);
    }

    private void forEachBlock(BlockPass pass) {
        for (int r0 = 0; r0 < out; r0 += rowsPerBlock) {
            int r1 = Math.min(out, r0 + rowsPerBlock);
            try (NDManager scope = tally.open(layer)) {
                pass.run(scope, r0, r1);
                tally.close(scope);
            }
        }
    }

    /** Rows [r0, r1) of the weight on the device, in {@code scope}. */
    private NDArray upload(NDManager scope, int r0, int r1) {
        staging.clear();
        staging.asFloatBuffer().put(w, r0 * in, (r1 - r0) * in);
        staging.limit((r1 - r0) * in * Float.BYTES);
        return DeviceArrays.wrap(scope, staging, new Shape(r1 - r0, in), DataType.FLOAT32);
    }
}
