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
 * the merged one once read. Memory per instance: five rows of ints, the selections' scratch, and
 * 1 MB of low-bit counters (reused across layers, see {@link CounterArrays}).
 */
final class MaskCounts {
    private static final int LOW_BITS = 0xffff;
    /** Columns per pass of {@link #countRow}'s loops: a multiple of four, its rows of ints a few KB each. */
    static final int TILE = 2048;
    /** Columns counted per row by look-up, at most in / MANY_COLUMNS of them; more are added for every column. */
    static final int MANY_COLUMNS = 16;

    private final int in;
    private final int layerBucket;
    private final int riaBucket;
    private final RowSelection wandaCut;
    private final RowSelection magnitudeCut;
    private final int[] absBits;
    private final int[] wandaBits;
    private final int[] riaBits;
    /** The columns whose Wanda-pruned rows are counted ({@link #wandaPrunedRows}), or null for none. */
    private final int[] columns;
    /** Per column of {@link #columns}, the rows counted whose Wanda row mask prunes it; counted row by row when few. */
    private final int[] prunedRows;
    /**
     * Per input column, the rows counted whose Wanda row mask prunes it, when {@link #columns} are many
     * (a vector add per entry beats a look-up per column), else null.
     */
    private final int[] prunedPerColumn;
    /** Scratch for {@link #sameTwoOfFour}: the two rows' entries by position in their group of four. */
    private final int[][] groupPlanes;
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
     * @param columns     the columns whose Wanda-pruned rows to count, or null for none
     */
    MaskCounts(int in, double sparsity, int layerBucket, int riaBucket, int[] columns) {
        this(in, layerBucket, riaBucket, new RowSelection(in, new RowPruner(in, sparsity).pruneCount()), columns);
    }

    /** As above, counting no column. */
    MaskCounts(int in, double sparsity, int layerBucket, int riaBucket) {
        this(in, sparsity, layerBucket, riaBucket, null);
    }

    private MaskCounts(int in, int layerBucket, int riaBucket, RowSelection wandaCut, int[] columns) {
        this.in = in;
        this.layerBucket = layerBucket;
        this.riaBucket = riaBucket;
        this.wandaCut = wandaCut;
        this.magnitudeCut = new RowSelection(in, wandaCut.pruneCount());
        this.absBits = new int[in];
        this.wandaBits = new int[in];
        this.riaBits = new int[in];
        this.columns = columns;
        this.prunedRows = columns == null ? null : new int[columns.length];
        this.prunedPerColumn = columns != null && (long) columns.length * MANY_COLUMNS >= in ? new int[in] : null;
        this.groupPlanes = new int[8][Math.min(in, TILE) / 4];
    }

    /** An empty instance for the same layer (another thread's). */
    MaskCounts emptyPart() {
        return new MaskCounts(in, layerBucket, riaBucket, new RowSelection(in, wandaCut.pruneCount()), columns);
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
     * keep the whole loop scalar. A long row goes through those loops a tile of columns at a time,
     * so that each loop finds the tile's entries still in the L1 cache.
     */
    private void countRow(long lastWanda, long lastMagnitude) {
        // a key (bits, column) is at or below the cut's key where bits < t, with t = the cut's bits + 1
        // up to the cut's column and its bits after it: so three column ranges, each with fixed t's
        int wandaBitsCut = lastWanda < 0 ? 0 : (int) (lastWanda >>> 32);
        int wandaColumn = lastWanda < 0 ? -1 : (int) lastWanda;
        int absBitsCut = lastMagnitude < 0 ? 0 : (int) (lastMagnitude >>> 32);
        int absColumn = lastMagnitude < 0 ? -1 : (int) lastMagnitude;
        int first = Math.min(wandaColumn, absColumn) + 1;
        int second = Math.max(wandaColumn, absColumn) + 1;
        int middleWanda = wandaColumn >= first ? wandaBitsCut + 1 : wandaBitsCut;
        int middleAbs = absColumn >= first ? absBitsCut + 1 : absBitsCut;
        for (int from = 0; from < in; from += TILE) {
            int to = Math.min(in, from + TILE);
            countAgreements(from, Math.min(to, first), wandaBitsCut + 1, absBitsCut + 1);
            countAgreements(Math.max(from, first), Math.min(to, second), middleWanda, middleAbs);
            countAgreements(Math.max(from, second), to, wandaBitsCut, absBitsCut);
            countInBuckets(from, to, lastWanda);
            agreeNofM += sameTwoOfFour(wandaBits, absBits, from, to, groupPlanes);
        }
        if (columns != null && prunedPerColumn == null) {
            for (int k = 0; k < columns.length; k++) {
                prunedRows[k] += RowSelection.pruned(wandaBits[columns[k]], columns[k], lastWanda);
            }
        }
        entries += in;
    }

    /** The entries of columns [from, to) in a threshold's bucket, by low bits and Wanda row mask. */
    private void countInBuckets(int from, int to, long lastWanda) {
        for (int j = from; j < to; j++) {
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
        int[] perColumn = prunedPerColumn;
        if (perColumn != null) {
            // a loop of its own, so that the one below stays the four sums it was tuned as
            for (int j = from; j < to; j++) {
                perColumn[j] += (wanda[j] - wandaBound) >>> 31;
            }
        }
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
                || part.columns != columns
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
        if (columns != null) {
            for (int k = 0; k < columns.length; k++) {
                prunedRows[k] += part.prunedRows[k];
            }
        }
        if (prunedPerColumn != null) {
            for (int j = 0; j < in; j++) {
                prunedPerColumn[j] += part.prunedPerColumn[j];
            }
        }
        for (int low = 0; low <= LOW_BITS; low++) {
            layerInBucket[low] += part.layerInBucket[low];
            layerInBucketWandaPruned[low] += part.layerInBucketWandaPruned[low];
            riaInBucket[low] += part.riaInBucket[low];
            riaInBucketWandaPruned[low] += part.riaInBucketWandaPruned[low];
        }
        part.release();
    }

    /** Per column asked for, the rows counted (merged parts' included) whose Wanda row mask prunes it. */
    int[] wandaPrunedRows() {
        if (columns == null) {
            throw new IllegalStateException("no columns were asked for");
        }
        int[] rows = prunedRows.clone();
        if (prunedPerColumn != null) {
            for (int k = 0; k < columns.length; k++) {
                rows[k] = prunedPerColumn[columns[k]];
            }
        }
        return rows;
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
     * Entries of columns [from, to) on which the 2:4 masks of the two scores agree
     * ({@link RowPruner#nOfM} with n = 2, m = 4); {@code from} is a multiple of four, and a short
     * trailing group (the row's last) is unpruned under both, so it agrees. The entries are first
     * laid out by position in their group ({@code planes}: eight arrays of at least
     * {@code (to - from) / 4}), so that the loop over groups reads each position at unit stride
     * and the JIT compiles it to vector instructions.
     */
    static int sameTwoOfFour(int[] x, int[] y, int from, int to, int[][] planes) {
        int groups = (to - from) / 4;
        int[] x0 = planes[0];
        int[] x1 = planes[1];
        int[] x2 = planes[2];
        int[] x3 = planes[3];
        int[] y0 = planes[4];
        int[] y1 = planes[5];
        int[] y2 = planes[6];
        int[] y3 = planes[7];
        for (int g = 0; g < groups; g++) {
            int j = from + 4 * g;
            x0[g] = x[j];
            x1[g] = x[j + 1];
            x2[g] = x[j + 2];
            x3[g] = x[j + 3];
            y0[g] = y[j];
            y1[g] = y[j + 1];
            y2[g] = y[j + 2];
            y3[g] = y[j + 3];
        }
        int same = to - from - 4 * groups;
        for (int g = 0; g < groups; g++) {
            // an entry's rank in its group: the entries below it, ties ordered by column (a stable
            // sort), from six comparisons (ba = 1 where b < a, ...): a: ba+ca+da, b: 1-ba+cb+db,
            // c: 2-ca-cb+dc, d: 3-da-db-dc. It is pruned (pa..pd, qa..qd) where its rank is below 2.
            // Written out in this form: the same sums through a helper method were slower (not inlined).
            int a = x0[g];
            int b = x1[g];
            int c = x2[g];
            int d = x3[g];
            int ba = (b - a) >>> 31;
            int ca = (c - a) >>> 31;
            int da = (d - a) >>> 31;
            int cb = (c - b) >>> 31;
            int db = (d - b) >>> 31;
            int dc = (d - c) >>> 31;
            int e = y0[g];
            int f = y1[g];
            int h = y2[g];
            int k = y3[g];
            int fe = (f - e) >>> 31;
            int he = (h - e) >>> 31;
            int ke = (k - e) >>> 31;
            int hf = (h - f) >>> 31;
            int kf = (k - f) >>> 31;
            int kh = (k - h) >>> 31;
            int pa = (ba + ca + da - 2) >>> 31;
            int pb = (cb + db - ba - 1) >>> 31;
            int pc = (dc - ca - cb) >>> 31;
            int pd = (1 - da - db - dc) >>> 31;
            int qa = (fe + he + ke - 2) >>> 31;
            int qb = (hf + kf - fe - 1) >>> 31;
            int qc = (kh - he - hf) >>> 31;
            int qd = (1 - ke - kf - kh) >>> 31;
            same += 4 - (pa ^ qa) - (pb ^ qb) - (pc ^ qc) - (pd ^ qd);
        }
        return same;
    }
}
