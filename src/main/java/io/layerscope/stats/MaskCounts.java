package io.layerscope.stats;

/**
 * The counts of {@link MaskComparison}, taken in a pass that runs before the layer thresholds are
 * known (the second pass over the weights), so that no pass of its own is needed.
 *
 * <p>The per-row masks (Wanda's and magnitude's, unstructured and 2:4) need only the row. The
 * layer-wide masks ({@code |W| <= t}, {@code RIA <= t_ria}) need thresholds that the second pass
 * itself pins down; but the first pass already says in which bucket (top 16 bits) each threshold
 * lies. An entry outside that bucket is decided by its bucket alone; an entry inside it is counted
 * by its low 16 bits, split by its Wanda row mask, and settled once the threshold is known
 * ({@link #agreement}). The result is {@link MaskComparison}'s, count for count.
 *
 * <p>Use: per thread an instance; per row, fill {@link #absBits()}, {@link #wandaBits()} and
 * {@link #riaBits()} (raw bits of non-negative, non-NaN floats, -0 made +0) and call
 * {@link #countRow()}; {@link #merge} the instances (whole numbers: any order); {@link #release}
 * the merged one once read. Memory per instance: three rows of ints, the selections' scratch, and
 * 1 MB of low-bit counters (reused across layers, see {@link CounterArrays}).
 */
final class MaskCounts {
    private static final int LOW_BITS = 0xffff;

    private final int in;
    private final int layerBucket;
    private final int riaBucket;
    private final RowSelection wandaCut;
    private final RowSelection magnitudeCut;
    private final int[] absBits;
    private final int[] wandaBits;
    private final int[] riaBits;
    private long entries;
    private long agreeRow;
    private long agreeNofM;
    /**
     * Agreement with Wanda's row mask and the count of the layer masks as if every entry of a
     * threshold's bucket were in its mask; {@link #agreement} corrects them.
     */
    private long agreeLayerAssumed;
    private long layerAtOrBelow;
    private long agreeRiaAssumed;
    /**
     * Per low 16 bits, entries in the threshold's bucket, and how many of those Wanda's row mask
     * prunes; reused arrays ({@link CounterArrays}), null once given back.
     */
    private int[] layerInBucket = CounterArrays.take();
    private int[] layerInBucketWandaPruned = CounterArrays.take();
    private int[] riaInBucket = CounterArrays.take();
    private int[] riaInBucketWandaPruned = CounterArrays.take();

    /**
     * @param in          row length
     * @param sparsity    as {@link RowPruner}'s: each row prunes floor(in * sparsity)
     * @param layerBucket the top 16 bits of the |W| layer threshold (its bucket, known after the first pass)
     * @param riaBucket   the same for the RIA threshold
     */
    MaskCounts(int in, double sparsity, int layerBucket, int riaBucket) {
        this(in, layerBucket, riaBucket, new RowSelection(in, new RowPruner(in, sparsity).pruneCount()));
    }

    private MaskCounts(int in, int layerBucket, int riaBucket, RowSelection wandaCut) {
        this.in = in;
        this.layerBucket = layerBucket;
        this.riaBucket = riaBucket;
        this.wandaCut = wandaCut;
        this.magnitudeCut = new RowSelection(in, wandaCut.pruneCount());
        this.absBits = new int[in];
        this.wandaBits = new int[in];
        this.riaBits = new int[in];
    }

    /** An empty instance for the same layer (another thread's). */
    MaskCounts emptyPart() {
        return new MaskCounts(in, layerBucket, riaBucket, new RowSelection(in, wandaCut.pruneCount()));
    }

    /** The row of |W| to fill before {@link #countRow}. */
    int[] absBits() {
        return absBits;
    }

    /** The row of the Wanda metric to fill before {@link #countRow}. */
    int[] wandaBits() {
        return wandaBits;
    }

    /** The row of the RIA metric to fill before {@link #countRow}. */
    int[] riaBits() {
        return riaBits;
    }

    /** Counts the row now in the three rows of bits. */
    void countRow() {
        countRow(wandaCut.lastPrunedKey(wandaBits), magnitudeCut.lastPrunedKey(absBits));
    }

    /**
     * {@link #countRow()} for a caller that, filling the rows, also counted each entry of the Wanda
     * and |W| rows into {@link #wandaPrefixCounts} and {@link #absPrefixCounts} as
     * {@link RowSelection#lastPrunedKeyCounted} says, with the minima and maxima it needs.
     */
    void countCountedRow(int wandaLowestMinusOne, int wandaHighest, int absLowestMinusOne, int absHighest) {
        countRow(wandaCut.lastPrunedKeyCounted(wandaBits, wandaLowestMinusOne, wandaHighest),
                magnitudeCut.lastPrunedKeyCounted(absBits, absLowestMinusOne, absHighest));
    }

    /** The Wanda row's selection counters, for {@link #countCountedRow}. */
    int[] wandaPrefixCounts() {
        return wandaCut.prefixCounts();
    }

    /** The |W| row's selection counters, for {@link #countCountedRow}. */
    int[] absPrefixCounts() {
        return magnitudeCut.prefixCounts();
    }

    /**
     * The row's counts given where its two row masks cut. The agreements are counted in loops of
     * pure integer arithmetic, which the JIT compiles to vector instructions; the few entries of a
     * threshold's bucket are counted in a scan of their own, since their scattered increments would
     * keep the whole loop scalar.
     */
    private void countRow(long lastWanda, long lastMagnitude) {
        // a key (bits, column) is at or below the cut's key where bits < t, with t = the cut's bits + 1
        // up to the cut's column and its bits after it: so three column ranges, each with fixed t's
        int wandaBitsCut = lastWanda < 0 ? 0 : (int) (lastWanda >>> 32);
        int wandaColumn = lastWanda < 0 ? -1 : (int) lastWanda;
        int absBitsCut = lastMagnitude < 0 ? 0 : (int) (lastMagnitude >>> 32);
        int absColumn = lastMagnitude < 0 ? -1 : (int) lastMagnitude;
        int first = Math.min(wandaColumn, absColumn);
        int second = Math.max(wandaColumn, absColumn);
        countAgreements(0, first + 1, wandaBitsCut + 1, absBitsCut + 1);
        countAgreements(first + 1, second + 1, wandaColumn > first ? wandaBitsCut + 1 : wandaBitsCut,
                absColumn > first ? absBitsCut + 1 : absBitsCut);
        countAgreements(second + 1, in, wandaBitsCut, absBitsCut);
        for (int j = 0; j < in; j++) {
            int abs = absBits[j];
            int ria = riaBits[j];
            if (abs >>> 16 == layerBucket) {
                int wandaMask = RowSelection.pruned(wandaBits[j], j, lastWanda);
                layerInBucket[abs & LOW_BITS]++;
                layerInBucketWandaPruned[abs & LOW_BITS] += wandaMask;
            }
            if (ria >>> 16 == riaBucket) {
                int wandaMask = RowSelection.pruned(wandaBits[j], j, lastWanda);
                riaInBucket[ria & LOW_BITS]++;
                riaInBucketWandaPruned[ria & LOW_BITS] += wandaMask;
            }
        }
        agreeNofM += sameTwoOfFour(wandaBits, absBits, in);
        entries += in;
    }

    /**
     * Agreements over columns [from, to), where an entry is in a row mask when its bits are below
     * that mask's bound. Masks are decided by arithmetic, not branches: with about half of the
     * entries pruned, a branch per decision would be mispredicted half the time.
     */
    private void countAgreements(int from, int to, int wandaBound, int absBound) {
        int[] abs = absBits;
        int[] wanda = wandaBits;
        int[] ria = riaBits;
        // 1 at or below the threshold's bucket: right for every entry but those of the bucket
        // above the threshold's low bits, which agreement() corrects from their counts
        int layerBound = layerBucket + 1;
        int riaBound = riaBucket + 1;
        int sameRow = 0;
        int sameLayer = 0;
        int below = 0;
        int sameRia = 0;
        for (int j = from; j < to; j++) {
            int a = abs[j];
            int wandaMask = (wanda[j] - wandaBound) >>> 31;
            sameRow += 1 ^ wandaMask ^ (a - absBound) >>> 31;
            int layerMask = ((a >>> 16) - layerBound) >>> 31;
            sameLayer += 1 ^ wandaMask ^ layerMask;
            below += layerMask;
            sameRia += 1 ^ wandaMask ^ ((ria[j] >>> 16) - riaBound) >>> 31;
        }
        agreeRow += sameRow;
        agreeLayerAssumed += sameLayer;
        layerAtOrBelow += below;
        agreeRiaAssumed += sameRia;
    }

    /**
     * Adds another instance's counts (same layer) to this one's. The part must not be used
     * afterwards: its counter arrays are given back for reuse.
     */
    void merge(MaskCounts part) {
        if (part == this || part.in != in || part.layerBucket != layerBucket || part.riaBucket != riaBucket
                || part.wandaCut.pruneCount() != wandaCut.pruneCount()) {
            throw new IllegalArgumentException("merge a different instance of the same layer");
        }
        if (part.layerInBucket == null || layerInBucket == null) {
            throw new IllegalStateException("counts already merged or released take no part in a merge");
        }
        entries += part.entries;
        agreeRow += part.agreeRow;
        agreeNofM += part.agreeNofM;
        agreeLayerAssumed += part.agreeLayerAssumed;
        layerAtOrBelow += part.layerAtOrBelow;
        agreeRiaAssumed += part.agreeRiaAssumed;
        for (int low = 0; low <= LOW_BITS; low++) {
            layerInBucket[low] += part.layerInBucket[low];
            layerInBucketWandaPruned[low] += part.layerInBucketWandaPruned[low];
            riaInBucket[low] += part.riaInBucket[low];
            riaInBucketWandaPruned[low] += part.riaInBucketWandaPruned[low];
        }
        part.release();
    }

    /**
     * Gives the low-bit counters back for reuse ({@link CounterArrays}) once {@link #agreement}
     * has been read; the instance must not be used afterwards. Releasing twice does nothing.
     */
    void release() {
        if (layerInBucket != null) {
            CounterArrays.giveBack(layerInBucket);
            CounterArrays.giveBack(layerInBucketWandaPruned);
            CounterArrays.giveBack(riaInBucket);
            CounterArrays.giveBack(riaInBucketWandaPruned);
        }
        layerInBucket = null;
        layerInBucketWandaPruned = null;
        riaInBucket = null;
        riaInBucketWandaPruned = null;
    }

    /**
     * The shares, once the thresholds are known: they must lie in the buckets given to the
     * constructor. Entries of the bucket at or below a threshold's low bits are in its mask.
     */
    MaskAgreement agreement(double sparsity, float layerThreshold, float riaThreshold) {
        int layerBits = Float.floatToRawIntBits(layerThreshold + 0f);
        int riaBits = Float.floatToRawIntBits(riaThreshold + 0f);
        if (layerBits >>> 16 != layerBucket || riaBits >>> 16 != riaBucket) {
            throw new IllegalArgumentException("thresholds " + layerThreshold + ", " + riaThreshold
                    + " outside the buckets counted");
        }
        long agreeLayer = agreeLayerAssumed;
        long pruned = layerAtOrBelow;
        long agreeRia = agreeRiaAssumed;
        // entries of a threshold's bucket above its low bits were counted as in its mask: they are not
        for (int low = (layerBits & LOW_BITS) + 1; low <= LOW_BITS; low++) {
            agreeLayer += layerInBucket[low] - 2L * layerInBucketWandaPruned[low];
            pruned -= layerInBucket[low];
        }
        for (int low = (riaBits & LOW_BITS) + 1; low <= LOW_BITS; low++) {
            agreeRia += riaInBucket[low] - 2L * riaInBucketWandaPruned[low];
        }
        double n = entries;
        return new MaskAgreement(sparsity, agreeRow / n, agreeLayer / n, agreeNofM / n, layerThreshold, pruned / n,
                agreeRia / n, riaThreshold);
    }

    /**
     * Per pair of group orders ({@link #order}, six bits each): on how many of the four entries the
     * 2:4 masks of the two orders agree.
     */
    private static final byte[] SAME_TWO_OF_FOUR = new byte[1 << 12];

    static {
        for (int x = 0; x < 64; x++) {
            for (int y = 0; y < 64; y++) {
                SAME_TWO_OF_FOUR[x << 6 | y] = (byte) (4 - Integer.bitCount(twoOfFourMask(x) ^ twoOfFourMask(y)));
            }
        }
    }

    /**
     * Entries of the row on which the 2:4 masks of the two scores agree ({@link RowPruner#nOfM}
     * with n = 2, m = 4): a short trailing group is unpruned under both, so it agrees.
     */
    static int sameTwoOfFour(int[] x, int[] y, int length) {
        int whole = length - length % 4;
        int same = length - whole;
        byte[] table = SAME_TWO_OF_FOUR;
        for (int g = 0; g < whole; g += 4) {
            same += table[order(x[g], x[g + 1], x[g + 2], x[g + 3]) << 6 | order(y[g], y[g + 1], y[g + 2], y[g + 3])];
        }
        return same;
    }

    /**
     * The order of a group of four as six comparison bits: b < a, c < a, d < a, c < b, d < b, d < c.
     * Ties order by column, as a stable sort does, so these six decide every entry's rank.
     */
    private static int order(int a, int b, int c, int d) {
        return below(b, a) | below(c, a) << 1 | below(d, a) << 2 | below(c, b) << 3 | below(d, b) << 4 | below(d, c) << 5;
    }

    /** The 2:4 mask of a group of the given {@link #order} as four bits (bit t: entry t, one of the two smallest, pruned). */
    private static int twoOfFourMask(int order) {
        int ba = order & 1;
        int ca = order >> 1 & 1;
        int da = order >> 2 & 1;
        int cb = order >> 3 & 1;
        int db = order >> 4 & 1;
        int dc = order >> 5 & 1;
        int rankA = ba + ca + da;
        int rankB = 1 - ba + cb + db;
        int rankC = 2 - ca - cb + dc;
        int rankD = 3 - da - db - dc;
        return below(rankA, 2) | below(rankB, 2) << 1 | below(rankC, 2) << 2 | below(rankD, 2) << 3;
    }

    /** 1 if x < y, else 0, for x and y of at most 31 bits. */
    private static int below(int x, int y) {
        return (x - y) >>> 31;
    }
}
