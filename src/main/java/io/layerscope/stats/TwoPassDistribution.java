package io.layerscope.stats;

import java.util.Arrays;

/**
 * The exact {@link Distribution} of a stream of non-negative floats, read twice, in memory that
 * does not grow with the number of values (a layer's weights are never copied or sorted).
 *
 * <p>For non-negative floats the raw bits order like the values, so order statistics come from
 * radix counting: the first pass counts values per top-16-bit pattern (a bucket) and their sum;
 * that locates the bucket of every rank needed, and the histogram bin of every value in a bucket
 * that no bin edge splits. The second pass sums squared deviations from the mean (a two-pass
 * variance, stable where sum-of-squares is not), counts the low 16 bits of the values in the
 * located buckets, which pins every requested rank to its exact value, and puts the values of
 * edge-split buckets into their bins. Counts above the caller's thresholds come the same way: the
 * buckets above a threshold's count whole, and only its own bucket's values are counted by their
 * low bits. Every kind of bucket is looked up in one table per value in the second pass, so the
 * first pass, which has to look up nothing, counts a value with one increment.
 *
 * <p>Use: {@link #add} every value (in slices); {@link #startSecondPass}; {@link #revisit} the
 * same values (any order and slicing); then {@link #distribution}, {@link #valueAtRank}, {@link #countAbove};
 * then {@link #release}, which gives the counter arrays to the next distribution (without it they
 * are left to the garbage collector).
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
 * d.release();                                       // merging released the parts
 * }</pre>
 */
final class TwoPassDistribution {
    private static final int BUCKETS = 1 << 16;
    private static final int LOW_BITS = 0xffff;
    /** A {@link #thresholdCuts} entry: no float is above the threshold (it is NaN or +infinity or more). */
    private static final int NOTHING_ABOVE = Integer.MAX_VALUE;

    private final LogBins bins;
    /** First-pass counters; a second-pass part shares its parent's (read only). Null once released. */
    private int[] bucketCounts;
    /** Bin counts: of unsplit buckets after the first pass, of split buckets' values in the second (a part: its own). */
    private final long[] binCounts;
    private long underflow;
    private long overflow;
    private long count;
    private double sum;
    /** First pass: the OR of the counted values' low 16 bits (all ones where a caller did not track them). */
    private int lowBitsSeen;

    private boolean secondPass;
    private double mean;
    private long revisited;
    private double sumSquaredDeviations;
    /**
     * Per threshold t: the raw bits of the largest float at or below it (a float is above t exactly
     * when its bits are above these), or -1 when every value is above t, or {@link #NOTHING_ABOVE}.
     */
    private int[] thresholdCuts;
    private long[] ranks;
    /** Per rank: its bucket and its offset among the values of that bucket. */
    private int[] rankBuckets;
    private long[] rankOffsets;
    /** Per bucket: index into lowCounts, or -1 if none of the ranks falls into it. */
    private int[] slotOfBucket;
    /**
     * Per bucket, what the second pass does with its values: 0 nothing; else bit 0 set when an edge
     * splits the bucket (locate each value) and (slot + 1) in the bits above when a rank or a
     * threshold falls into it.
     */
    private int[] secondPassWork;
    private int[][] lowCounts;

    /** A second-pass part: shares its parent's first-pass counters and tables, owns only its second-pass counters. */
    private final boolean sharesParent;

    TwoPassDistribution(LogBins bins) {
        this.bins = bins;
        this.sharesParent = false;
        this.bucketCounts = CounterArrays.take();
        this.binCounts = new long[bins.bins()];
    }

    /** A second-pass part of {@code parent}: its first-pass results and ranks, its own second-pass counters. */
    private TwoPassDistribution(TwoPassDistribution parent) {
        this.bins = parent.bins;
        this.sharesParent = true;
        this.bucketCounts = parent.bucketCounts;
        this.binCounts = new long[parent.binCounts.length];
        this.count = parent.count;
        this.sum = parent.sum;
        this.secondPass = true;
        this.mean = parent.mean;
        this.thresholdCuts = parent.thresholdCuts;
        this.ranks = parent.ranks;
        this.rankBuckets = parent.rankBuckets;
        this.rankOffsets = parent.rankOffsets;
        this.slotOfBucket = parent.slotOfBucket;
        this.secondPassWork = parent.secondPassWork;
        this.lowCounts = takeCounters(parent.lowCounts.length);
    }

    private static int[][] takeCounters(int n) {
        int[][] counters = new int[n][];
        for (int i = 0; i < n; i++) {
            counters[i] = CounterArrays.take();
        }
        return counters;
    }

    /** First pass: {@code values[from..to)}, non-negative and not NaN (the caller validates its input). */
    void add(float[] values, int from, int to) {
        checkPass(false);
        int[] counts = bucketCounts;
        double partialSum = 0;
        int seen = 0;
        for (int k = from; k < to; k++) {
            float v = values[k] + 0f; // -0 to +0: raw bits order like values only from +0 up
            int bits = Float.floatToRawIntBits(v);
            counts[bits >>> 16]++;
            seen |= bits;
            partialSum += v;
        }
        sum += partialSum;
        count += to - from;
        lowBitsSeen |= seen & LOW_BITS;
    }

    /**
     * First pass, one value at a time, for callers that compute several quantities in one loop:
     * counts the value with raw bits {@code bits} (of a non-negative float, not -0 or NaN) without
     * its sum, which the caller adds with {@link #addSum} once per slice.
     */
    void count(int bits) {
        bucketCounts[bits >>> 16]++;
    }

    /**
     * First pass: ends a slice of {@code n} values {@link #count counted} one by one, whose sum the
     * caller took in a double from zero in slice order, as {@link #add} does; {@code bitsSeen} is
     * the OR of their bits, or -1 when the caller did not take it (only its low 16 bits matter:
     * where every value has them zero, as bf16 values widened do, the second pass has nothing to
     * look up, see {@link #startSecondPass}).
     */
    void addSum(double sliceSum, long n, int bitsSeen) {
        checkPass(false);
        sum += sliceSum;
        count += n;
        lowBitsSeen |= bitsSeen & LOW_BITS;
    }

    /**
     * Second pass, one value at a time (as {@link #count}): counts its low bits if its bucket holds
     * a rank, and its bin if an edge splits its bucket.
     */
    void revisitBits(int bits) {
        int work = secondPassWork[bits >>> 16];
        if (work != 0) {
            revisitInBucket(bits, work);
        }
    }

    /** The second pass's work on a value of a bucket that has some (see {@link #secondPassWork}). */
    private void revisitInBucket(int bits, int work) {
        if ((work & 1) != 0) {
            countInBin(bins.locateBits(bits), 1);
        }
        int slot = (work >>> 1) - 1;
        if (slot >= 0) {
            lowCounts[slot][bits & LOW_BITS]++;
        }
    }

    /**
     * Second pass: ends a slice of {@code n} values {@link #revisitBits revisited} one by one, whose
     * squared deviations from {@link #mean} the caller summed in a double from zero in slice order,
     * as {@link #revisit} does.
     */
    void addSquaredDeviations(double sliceSum, long n) {
        checkPass(true);
        sumSquaredDeviations += sliceSum;
        revisited += n;
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
     * are values for which {@link #countAbove} will count the values strictly above (compared as
     * {@code value > threshold}, the float widened to double).
     */
    void startSecondPass(long[] extraRanks, double[] aboveThresholds) {
        checkPass(false);
        if (count == 0) {
            throw new IllegalStateException("no values added");
        }
        secondPass = true;
        mean = sum / count;
        foldBucketsIntoBins();

        RankBuckets located = RankBuckets.locate(bucket -> bucketCounts[bucket], count, extraRanks, CounterArrays.take());
        ranks = located.ranks();
        rankBuckets = located.rankBuckets();
        rankOffsets = located.rankOffsets();
        slotOfBucket = located.slotOfBucket();
        int slots = located.slots();
        thresholdCuts = new int[aboveThresholds.length];
        for (int t = 0; t < aboveThresholds.length; t++) {
            int cut = cutBits(aboveThresholds[t]);
            thresholdCuts[t] = cut;
            if (cut >= 0 && cut != NOTHING_ABOVE && slotOfBucket[cut >>> 16] < 0) {
                slotOfBucket[cut >>> 16] = slots++;
            }
        }
        lowCounts = takeCounters(slots);
        secondPassWork = CounterArrays.take();
        // Where no value had low bits, each is its bucket's lowest value: its low bits and its bin
        // are known now, and the second pass looks up nothing (its work table stays zero).
        boolean lowBitsKnown = lowBitsSeen == 0;
        for (int bucket = 0; bucket < BUCKETS; bucket++) {
            int n = bucketCounts[bucket];
            boolean split = n != 0 && bins.locateBucket(bucket) == LogBins.SPANS_EDGE;
            if (!lowBitsKnown) {
                secondPassWork[bucket] = (slotOfBucket[bucket] + 1) << 1 | (split ? 1 : 0);
            } else if (n != 0) {
                if (split) {
                    countInBin(bins.locateBits(bucket << 16), n);
                }
                if (slotOfBucket[bucket] >= 0) {
                    lowCounts[slotOfBucket[bucket]][0] = n;
                }
            }
        }
    }

    /** Second pass: the same values as the first pass, in any order and slicing. */
    void revisit(float[] values, int from, int to) {
        checkPass(true);
        int[] work = secondPassWork;
        double partialSum = 0;
        for (int k = from; k < to; k++) {
            float v = values[k] + 0f;
            double deviation = v - mean;
            partialSum += deviation * deviation;
            int bits = Float.floatToRawIntBits(v);
            int bucketWork = work[bits >>> 16];
            if (bucketWork != 0) {
                revisitInBucket(bits, bucketWork);
            }
        }
        sumSquaredDeviations += partialSum;
        revisited += to - from;
    }

    /**
     * An empty part for second-pass slices counted apart (e.g. on another thread), to be
     * {@link #merge merged} back into this instance. Its memory is this one's second-pass
     * counters: one 64K-int array per bucket holding a requested rank or a threshold (at most 7
     * plus the extra ranks and the thresholds) and the bin counts of edge-split buckets' values.
     */
    TwoPassDistribution secondPassPart() {
        checkPass(true);
        return new TwoPassDistribution(this);
    }

    /**
     * Adds what {@code part} counted to this instance, as if its values had been added (first pass)
     * or revisited (second pass) here after the values counted so far. In the first pass the part
     * is an instance with the same bins, still in its first pass; in the second pass it is one of
     * this instance's {@link #secondPassPart}s. The part must not be used afterwards: its counter
     * arrays are given back for reuse ({@link CounterArrays}).
     */
    void merge(TwoPassDistribution part) {
        if (part == this) {
            throw new IllegalArgumentException("cannot merge a distribution into itself");
        }
        if (part.bucketCounts == null || bucketCounts == null) {
            throw new IllegalStateException("a distribution already merged or released takes no part in a merge");
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
            lowBitsSeen |= part.lowBitsSeen;
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
            for (int bin = 0; bin < binCounts.length; bin++) {
                binCounts[bin] += part.binCounts[bin];
            }
            underflow += part.underflow;
            overflow += part.overflow;
            sumSquaredDeviations += part.sumSquaredDeviations;
            revisited += part.revisited;
        }
        part.release();
    }

    /**
     * Gives this instance's counter arrays back for reuse ({@link CounterArrays}) once its results
     * have been read; it must not be used afterwards. Parts need not be released: {@link #merge}
     * does it. A released instance releases nothing twice.
     */
    void release() {
        if (!sharesParent) {
            giveBack(bucketCounts);
            giveBack(slotOfBucket);
            giveBack(secondPassWork);
        }
        if (lowCounts != null) {
            for (int[] low : lowCounts) {
                giveBack(low);
            }
        }
        bucketCounts = null;
        slotOfBucket = null;
        secondPassWork = null;
        lowCounts = null;
    }

    private static void giveBack(int[] counters) {
        if (counters != null) {
            CounterArrays.giveBack(counters);
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
                return RankBuckets.valueAt(rankBuckets[i], rankOffsets[i], bits -> low[bits]);
            }
        }
        throw new IllegalArgumentException("rank " + rank + " was not requested before the second pass");
    }

    /** The number of values strictly above {@code aboveThresholds[index]} of the second pass. */
    long countAbove(int index) {
        checkComplete();
        int cut = thresholdCuts[index];
        if (cut < 0) {
            return count;
        }
        if (cut == NOTHING_ABOVE) {
            return 0;
        }
        long above = 0;
        for (int bucket = (cut >>> 16) + 1; bucket < BUCKETS; bucket++) {
            above += bucketCounts[bucket];
        }
        int[] low = lowCounts[slotOfBucket[cut >>> 16]];
        for (int bits = (cut & LOW_BITS) + 1; bits <= LOW_BITS; bits++) {
            above += low[bits];
        }
        return above;
    }

    /**
     * The raw bits of the largest float at or below {@code threshold} (then a non-negative float is
     * above the threshold exactly when its bits are above these), -1 for a threshold below zero
     * (every value is above), or {@link #NOTHING_ABOVE} for NaN and thresholds of +infinity or more.
     */
    static int cutBits(double threshold) {
        if (threshold < 0) {
            return -1;
        }
        if (!(threshold < Double.POSITIVE_INFINITY)) {
            return NOTHING_ABOVE;
        }
        float cut = (float) threshold + 0f;   // -0 (a threshold of -0.0) as +0: no value is above either
        if (cut > threshold) {
            cut = Math.nextDown(cut);
        }
        return cut == Float.POSITIVE_INFINITY ? NOTHING_ABOVE : Float.floatToRawIntBits(cut);
    }

    Distribution distribution() {
        checkComplete();
        Summary summary = RankBuckets.summary(count, mean, sumSquaredDeviations, this::valueAtRank);
        Histogram histogram = new Histogram(bins.edges(), binCounts, underflow, overflow);
        return new Distribution(summary, histogram);
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
