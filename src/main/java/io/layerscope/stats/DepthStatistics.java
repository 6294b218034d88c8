package io.layerscope.stats;

import io.layerscope.model.Tap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The depth and outlier rows of a run from its merged {@link DepthSums} (docs/METRICS.md): per
 * block its influence, angular distance to the next block and massive activations; the angular
 * distance of every block range; the systematic outlier features. Sums over sequences run in
 * sample order, so the rows do not depend on how the samples were split into shards.
 */
public final class DepthStatistics {
    /** Sun et al.'s massive activation: top |h| above this and above {@link #MASSIVE_RATIO} x the median. */
    public static final double MASSIVE_ABS = 100;
    public static final double MASSIVE_RATIO = 1000;

    /**
     * One decoder block.
     *
     * @param blockInfluence      ShortGPT's BI: mean over every calibration token of 1 - cos(h_in, h_out)
     * @param angularDistanceNext d(block, block + 1) on the last token, averaged over sequences
     * @param top                 the largest |h| of the block output, where it is
     * @param top3                the three largest |h|, largest first
     * @param medianAbs           lower median of |h| over all tokens and channels, truncated to bfloat16
     * @param downIn              down_proj's largest |input| (its channel is an input column j), or null
     * @param downOut             down_proj's largest |output| (its channel is a row i), or null
     */
    public record BlockDepth(int block, double blockInfluence, double angularDistanceNext, Peak top, double[] top3,
                             double medianAbs, boolean massive, Peak downIn, Peak downOut) {
    }

    /** d(start, start + span): dropping blocks start .. start + span - 1; bestStart minimises it for this span. */
    public record BlockDistance(int start, int span, double angularDistance, int bestStart) {
    }

    /** A channel of one tap kind with |x| >= 6 in at least the given shares of blocks and positions. */
    public record OutlierFeature(String tap, int channel, double blockShare, double positionShare, int[] blocks) {
    }

    private DepthStatistics() {
    }

    public static List<BlockDepth> blocks(DepthSums d) {
        List<BlockDepth> rows = new ArrayList<>();
        for (Map.Entry<Integer, long[]> e : d.histogram().entrySet()) {
            int b = e.getKey();
            double bi = 0;
            long tokens = 0;
            for (DepthSums.SampleDepth s : d.samples().values()) {
                bi += s.influence.getOrDefault(b, 0.0);
                tokens += s.tokens;
            }
            List<Peak> top = d.top().get(b);
            double[] top3 = top.stream().mapToDouble(Peak::abs).toArray();
            double median = lowerMedian(e.getValue());
            boolean massive = top3[0] > MASSIVE_ABS && top3[0] > MASSIVE_RATIO * median;
            rows.add(new BlockDepth(b, bi / tokens, meanDistance(d, b, b + 1), top.get(0), top3, median, massive,
                    d.downIn().get(b), d.downOut().get(b)));
        }
        return rows;
    }

    /** The lower median (torch.median) of the histogrammed values, as the bin's value (bfloat16 truncation). */
    static double lowerMedian(long[] hist) {
        long n = 0;
        for (long c : hist) {
            n += c;
        }
        long rank = (n - 1) / 2;
        long seen = 0;
        for (int bin = 0; bin < hist.length; bin++) {
            seen += hist[bin];
            if (seen > rank) {
                return Float.intBitsToFloat(bin << DepthSums.BIN_SHIFT);
            }
        }
        return Double.NaN;
    }

    /** Mean over sequences of d(from, to), summed in sample order. */
    private static double meanDistance(DepthSums d, int from, int to) {
        double sum = 0;
        int n = 0;
        for (DepthSums.SampleDepth s : d.samples().values()) {
            Double v = s.distances.get(DepthSums.distanceKey(from, to));
            if (v != null) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** d(l, l + n) for every boundary l (0 = embedding output) and span n >= 1, by span then start. */
    public static List<BlockDistance> distances(DepthSums d) {
        int boundaries = d.histogram().isEmpty() ? 0 : d.histogram().lastKey() + 2;
        List<BlockDistance> rows = new ArrayList<>();
        for (int span = 1; span < boundaries; span++) {
            double[] dist = new double[boundaries - span];
            int best = 0;
            for (int start = 0; start + span < boundaries; start++) {
                dist[start] = meanDistance(d, start, start + span);
                if (dist[start] < dist[best]) {
                    best = start;
                }
            }
            for (int start = 0; start < dist.length; start++) {
                rows.add(new BlockDistance(start, span, dist[start], best));
            }
        }
        return rows;
    }

    /**
     * Channels of each tap kind with |x| >= 6 in at least {@code minBlockShare} of the blocks and at
     * {@code minPositionShare} of the calibration positions (in at least one block), by tap then channel.
     */
    public static List<OutlierFeature> outlierFeatures(DepthSums d, double minBlockShare, double minPositionShare) {
        List<OutlierFeature> rows = new ArrayList<>();
        for (Map.Entry<Tap, TreeMap<Integer, long[]>> e : d.outlierCounts().entrySet()) {
            long[] any = d.outlierAnyBlock().get(e.getKey());
            int blocks = e.getValue().size();
            for (int c = 0; c < any.length; c++) {
                List<Integer> in = new ArrayList<>();
                for (Map.Entry<Integer, long[]> bc : e.getValue().entrySet()) {
                    if (bc.getValue()[c] > 0) {
                        in.add(bc.getKey());
                    }
                }
                double blockShare = (double) in.size() / blocks;
                double positionShare = (double) any[c] / d.outlierTokens();
                if (blockShare >= minBlockShare && positionShare >= minPositionShare) {
                    rows.add(new OutlierFeature(e.getKey().name(), c, blockShare, positionShare,
                            in.stream().mapToInt(Integer::intValue).toArray()));
                }
            }
        }
        return rows;
    }
}
