package io.layerscope.stats;

import java.util.Arrays;
import java.util.function.IntToLongFunction;

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
}
