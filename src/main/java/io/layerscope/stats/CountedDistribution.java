package io.layerscope.stats;

import java.util.Arrays;

/**
 * The exact {@link Distribution} of values counted elsewhere (on a libtorch device), finished on
 * the host: the same radix scheme as the plain-Java statistics, fed with counts instead of values.
 *
 * <p>First pass: the caller adds, per slice of the values, their count and double sum, how many
 * fall into each top-16-bit pattern of their float32 bits ({@link #addBuckets}) and into each
 * histogram location of {@link LogBins#STANDARD} ({@link #addLocations}). {@link #startSecondPass}
 * then says which buckets hold a rank the summary needs; in the second pass the caller adds the
 * squared deviations from {@link #mean} and, for the values of those buckets, the counts of their
 * low 16 bits ({@link #addLowBits}). Every order statistic is then an exact input value, so the
 * summary equals the plain-Java one up to the order of the double sums (mean, std).
 *
 * <pre>{@code
 * CountedDistribution d = new CountedDistribution();
 * d.addSum(n, sum); d.addBuckets(buckets, counts); d.addLocations(locations, counts);
 * int[] slots = d.startSecondPass(layerRank);      // per bucket: its slot, or -1
 * d.addSquaredDeviations(ssd); d.addLowBits(slotTimes65536PlusLow, counts);
 * Distribution dist = d.distribution(); float t = d.valueAtRank(layerRank);
 * }</pre>
 */
public final class CountedDistribution {
    /** Top-16-bit patterns of a float32. */
    public static final int BUCKETS = 1 << 16;

    private final LogBins bins = LogBins.STANDARD;
    private final long[] bucketCounts = new long[BUCKETS];
    private final long[] binCounts = new long[bins.bins()];
    private long underflow;
    private long overflow;
    private long count;
    private double sum;

    private boolean secondPass;
    private double mean;
    private double sumSquaredDeviations;
    private long[] ranks;
    private int[] rankBuckets;
    private long[] rankOffsets;
    private int[] slotOfBucket;
    private long[][] lowCounts;

    /** The exact distribution of a short array (activation norms), counted on the host as the plain-Java path does. */
    public static Distribution of(float[] values) {
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        d.add(values, 0, values.length);
        d.startSecondPass(new long[0], new double[0]);
        d.revisit(values, 0, values.length);
        return d.distribution();
    }

    /** First pass: {@code n} more values summing to {@code sum} (in double). */
    public void addSum(long n, double sum) {
        checkPass(false);
        this.count += n;
        this.sum += sum;
    }

    /** First pass: {@code counts[i]} values whose float32 bits have top 16 bits {@code buckets[i]}. */
    public void addBuckets(long[] buckets, long[] counts) {
        checkPass(false);
        for (int i = 0; i < buckets.length; i++) {
            bucketCounts[(int) buckets[i]] += counts[i];
        }
    }

    /**
     * First pass: {@code counts[i]} values with {@code LogBins.STANDARD} location {@code locations[i]}
     * (-1 below the first edge, {@code bins()} at or above the last), folded as {@link Histogram} says.
     */
    public void addLocations(long[] locations, long[] counts) {
        checkPass(false);
        for (int i = 0; i < locations.length; i++) {
            long location = locations[i];
            if (location < 0) {
                underflow += counts[i];
            } else if (location >= binCounts.length) {
                overflow += counts[i];
            }
            binCounts[(int) Math.max(0, Math.min(binCounts.length - 1, location))] += counts[i];
        }
    }

    public long count() {
        return count;
    }

    /** The mean of the values added so far. */
    public double mean() {
        return sum / count;
    }

    /**
     * Ends the first pass. Returns, per bucket, the slot under which {@link #addLowBits} expects the
     * low bits of its values, or -1 when no requested rank (the summary's and {@code extraRanks})
     * falls into it. Slots are 0, 1, ... (at most 7 plus the extra ranks).
     */
    public int[] startSecondPass(long... extraRanks) {
        checkPass(false);
        if (count == 0) {
            throw new IllegalStateException("no values added");
        }
        long binned = Arrays.stream(binCounts).sum();
        long bucketed = Arrays.stream(bucketCounts).sum();
        if (binned != count || bucketed != count) {
            throw new IllegalStateException("counted " + count + " values but " + bucketed + " in buckets and " + binned
                    + " in bins");
        }
        secondPass = true;
        mean = sum / count;
        RankBuckets located = RankBuckets.locate(bucket -> bucketCounts[bucket], count, extraRanks);
        ranks = located.ranks();
        rankBuckets = located.rankBuckets();
        rankOffsets = located.rankOffsets();
        slotOfBucket = located.slotOfBucket();
        lowCounts = new long[located.slots()][BUCKETS];
        return slotOfBucket.clone();
    }

    /** Second pass: the sum of (value - mean)^2 over a slice, in double. */
    public void addSquaredDeviations(double s) {
        checkPass(true);
        sumSquaredDeviations += s;
    }

    /**
     * Second pass: {@code counts[i]} values of slot {@code keys[i] >> 16} (see {@link #startSecondPass})
     * whose float32 bits have low 16 bits {@code keys[i] & 0xffff}.
     */
    public void addLowBits(long[] keys, long[] counts) {
        checkPass(true);
        for (int i = 0; i < keys.length; i++) {
            lowCounts[(int) (keys[i] >>> 16)][(int) (keys[i] & 0xffff)] += counts[i];
        }
    }

    /** The value of 0-based rank {@code rank} in ascending order; the rank must have been requested. */
    public float valueAtRank(long rank) {
        checkPass(true);
        for (int i = 0; i < ranks.length; i++) {
            if (ranks[i] == rank) {
                long[] low = lowCounts[slotOfBucket[rankBuckets[i]]];
                return RankBuckets.valueAt(rankBuckets[i], rankOffsets[i], bits -> low[bits]);
            }
        }
        throw new IllegalArgumentException("rank " + rank + " was not requested before the second pass");
    }

    /** The summary (PyTorch's defaults, as {@link Summary} says) and histogram. */
    public Distribution distribution() {
        checkPass(true);
        Summary summary = RankBuckets.summary(count, mean, sumSquaredDeviations, this::valueAtRank);
        return new Distribution(summary, new Histogram(bins.edges(), binCounts, underflow, overflow));
    }

    private void checkPass(boolean second) {
        if (secondPass != second) {
            throw new IllegalStateException(second ? "second pass not started" : "second pass already started");
        }
    }
}
