package io.layerscope.stats;

import java.util.Arrays;
import java.util.function.IntToLongFunction;
import java.util.function.LongToDoubleFunction;

/**
 * The first step of a radix selection over float32 bit patterns: the bucket (high 16 bits) each
 * requested rank falls into, its offset within that bucket, and a slot per such bucket, so that the
 * second pass counts low bits only where a rank needs them. Shared by the Java statistics
 * ({@link TwoPassDistribution}) and the host side of the device path ({@link CountedDistribution}).
 *
 * @param ranks        the summary's ranks (min, max, median, both neighbours of the 1% and 99%
 *                     quantiles) followed by the extra ranks asked for
 * @param rankBuckets  per rank, its bucket
 * @param rankOffsets  per rank, the rank among the values of its bucket
 * @param slotOfBucket per bucket, its slot (0, 1, ...), or -1 when no rank falls into it
 * @param slots        the number of slots
 */
record RankBuckets(long[] ranks, int[] rankBuckets, long[] rankOffsets, int[] slotOfBucket, int slots) {
    static final int BUCKETS = 1 << 16;
    static final double Q_LOW = 0.01;
    static final double Q_HIGH = 0.99;

    /** Locates the summary's ranks and {@code extraRanks} among {@code count} values, {@code bucketCount} of them in each bucket. */
    static RankBuckets locate(IntToLongFunction bucketCount, long count, long[] extraRanks) {
        return locate(bucketCount, count, extraRanks, new int[BUCKETS]);
    }

    /** As {@link #locate(IntToLongFunction, long, long[])}, filling {@code slotOfBucket} (of {@link #BUCKETS} ints) as the result's. */
    static RankBuckets locate(IntToLongFunction bucketCount, long count, long[] extraRanks, int[] slotOfBucket) {
        double low = Q_LOW * (count - 1);
        double high = Q_HIGH * (count - 1);
        long[] summary = {0, count - 1, (count - 1) / 2, (long) Math.floor(low), (long) Math.ceil(low),
                (long) Math.floor(high), (long) Math.ceil(high)};
        long[] ranks = Arrays.copyOf(summary, summary.length + extraRanks.length);
        System.arraycopy(extraRanks, 0, ranks, summary.length, extraRanks.length);
        int[] rankBuckets = new int[ranks.length];
        long[] rankOffsets = new long[ranks.length];
        Arrays.fill(slotOfBucket, -1);
        int slots = 0;
        for (int i = 0; i < ranks.length; i++) {
            if (ranks[i] < 0 || ranks[i] >= count) {
                throw new IllegalArgumentException("rank " + ranks[i] + " outside 0.." + (count - 1));
            }
            long before = 0;
            int bucket = 0;
            while (before + bucketCount.applyAsLong(bucket) <= ranks[i]) {
                before += bucketCount.applyAsLong(bucket++);
            }
            rankBuckets[i] = bucket;
            rankOffsets[i] = ranks[i] - before;
            if (slotOfBucket[bucket] < 0) {
                slotOfBucket[bucket] = slots++;
            }
        }
        return new RankBuckets(ranks, rankBuckets, rankOffsets, slotOfBucket, slots);
    }

    /**
     * The value at offset {@code offset} among the values of bucket {@code bucket}, {@code lowCount(bits)}
     * of which have low 16 bits {@code bits}: the second pass's answer for a rank.
     */
    static float valueAt(int bucket, long offset, IntToLongFunction lowCount) {
        long seen = 0;
        int bits = 0;
        while (seen + lowCount.applyAsLong(bits) <= offset) {
            seen += lowCount.applyAsLong(bits++);
            if (bits == BUCKETS) {
                throw new IllegalStateException("bucket " + bucket + ": its low bits were not all counted (offset " + offset + ")");
            }
        }
        return Float.intBitsToFloat(bucket << 16 | bits);
    }

    /**
     * The summary of {@code count} values from their mean, their sum of squared deviations and their
     * values at the summary's ranks: PyTorch's defaults ({@link Summary}), std with n - 1, the lower
     * median, and torch.quantile's linear interpolation for p01 and p99 with its two-sided lerp (exact at
     * both ends, symmetric rounding in between), the position formed in double.
     */
    static Summary summary(long count, double mean, double sumSquaredDeviations, LongToDoubleFunction valueAtRank) {
        double std = count > 1 ? Math.sqrt(sumSquaredDeviations / (count - 1)) : Double.NaN;
        return new Summary(count, mean, std, valueAtRank.applyAsDouble(0), valueAtRank.applyAsDouble(count - 1),
                valueAtRank.applyAsDouble((count - 1) / 2), quantile(Q_LOW, count, valueAtRank),
                quantile(Q_HIGH, count, valueAtRank));
    }

    private static double quantile(double q, long count, LongToDoubleFunction valueAtRank) {
        double pos = q * (count - 1);
        long below = (long) Math.floor(pos);
        double start = valueAtRank.applyAsDouble(below);
        double end = valueAtRank.applyAsDouble((long) Math.ceil(pos));
        double weight = pos - below;
        return weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight);
    }
}
