package io.layerscope.spark;

import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.Tap;
import io.layerscope.report.DepthSummary;
import io.layerscope.results.BlockResult;
import io.layerscope.results.BlocksTable;
import io.layerscope.results.DepthTables.OutlierFeatureRow;
import io.layerscope.results.LayerResult;
import io.layerscope.stats.DepthStatistics;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.DepthStatistics.OutlierFeature;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.SuperWeight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The depth tables of a run (docs/METRICS.md): made on the driver from merged {@link DepthSums},
 * plus one row of down_proj.weight per super-weight candidate and, for the systematic outlier
 * features, how much the Wanda masks of the analysed layers reading them prune their columns: counted
 * by the per-layer statistics for per-row masks (the columns of {@link OutlierColumns}), by a Spark
 * job of its own for N:M masks ({@link ChannelPruningStage}). In dense mode everything comes from stage
 * one's forward; in sequential mode from the pruned stream, with each round's masks (docs/METRICS.md,
 * which stream in sequential mode).
 */
public record DepthResults(List<BlocksTable.Source> blocks, List<BlockDistance> distances, List<SuperWeight> superWeights,
                           List<OutlierFeatureRow> outlierFeatures) {

    /**
     * What decides whether a block's down_proj mask prunes its super-weight candidate: the scaler_row
     * of its input (null when not known) and the sparsity.
     */
    public interface SuperWeightMasks {
        float[] scalerRow(int block);

        double sparsity(int block);
    }

    /** Dense mode: stage one's scaler_rows (where summed) at each block's sparsity (the run's --sparsity, or OWL's). */
    static SuperWeightMasks dense(TapSums sums, double[] blockSparsity) {
        return new SuperWeightMasks() {
            @Override
            public float[] scalerRow(int block) {
                String key = Tap.MLP_ACT.key(block);
                return sums.keys().contains(key) ? sums.scalerRow(key) : null;
            }

            @Override
            public double sparsity(int block) {
                return blockSparsity[block];
            }
        };
    }

    /** Sequential mode: the mask of each block's round, from its sequential scaler_row at its block's sparsity. */
    static SuperWeightMasks sequential(Map<String, float[]> scalerRows, double[] blockSparsity) {
        return new SuperWeightMasks() {
            @Override
            public float[] scalerRow(int block) {
                return scalerRows.get(Tap.MLP_ACT.key(block));
            }

            @Override
            public double sparsity(int block) {
                return blockSparsity[block];
            }
        };
    }

    /**
     * Dense mode: every table from stage one's depth statistics and sums; {@code blockSparsity} as the
     * run prunes; {@code analysed}: stage two's results of {@code layers}.
     */
    public static DepthResults compute(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers, DepthSums depth,
                                       TapSums sums, JobOptions.Analysis analysis, double[] blockSparsity,
                                       List<LayerResult> analysed) {
        Map<String, float[]> rows = new LinkedHashMap<>();
        sums.keys().forEach(k -> rows.put(k, sums.scalerRow(k)));
        return compute(jsc, ckpt, layers, depth, dense(sums, blockSparsity), rows, analysis, analysed);
    }

    /**
     * @param depth      the merged depth statistics
     * @param masks      the masks the super-weight candidates are checked against
     * @param scalerRows per tap key, the scaler_row of the Wanda masks the outlier features are joined to
     * @param analysed   the statistics of {@code layers}, made from those scaler_rows at the masks' sparsities
     */
    public static DepthResults compute(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers, DepthSums depth,
                                       SuperWeightMasks masks, Map<String, float[]> scalerRows,
                                       JobOptions.Analysis analysis, List<LayerResult> analysed) {
        List<BlockDepth> blocks = DepthStatistics.blocks(depth);
        List<SuperWeight> superWeights = new ArrayList<>();
        for (BlockDepth b : blocks) {
            if (b.downIn() != null && b.downIn().sameToken(b.downOut())) {
                String tensor = "model.layers." + b.block() + ".mlp.down_proj.weight";
                float[] row = ckpt.fileOf(tensor).readRows(tensor, b.downOut().channel(), 1);
                superWeights.add(SuperWeight.check(b.block(), b.downIn(), b.downOut(), row, masks.scalerRow(b.block()),
                        masks.sparsity(b.block())));
            }
        }
        List<OutlierFeature> features = DepthStatistics.outlierFeatures(depth, analysis.outlierBlockShare(),
                analysis.outlierPositionShare());
        List<ChannelPruningStage.Job> jobs = channelJobs(layers, features, scalerRows);
        Map<String, int[]> prunedRows = analysis.pattern().structured()
                ? ChannelPruningStage.run(jsc, ckpt.dir().toAbsolutePath().toString(), jobs, analysis.pattern())
                : prunedRowsCounted(jobs, analysed);
        // a feature per channel of a tap is possible (thousands), each asked of every layer: one pass over the answers
        Map<String, ColumnPruning> byFeature = new HashMap<>();
        for (ChannelPruningStage.Job j : jobs) {
            int[] counts = prunedRows.get(j.layer().name());
            for (int k = 0; k < j.channels().length; k++) {
                byFeature.computeIfAbsent(j.layer().tap().name() + "#" + j.channels()[k], key -> new ColumnPruning())
                        .add(j.layer(), counts[k]);
            }
        }
        List<OutlierFeatureRow> rows = new ArrayList<>();
        for (OutlierFeature f : features) {
            ColumnPruning p = byFeature.getOrDefault(f.tap() + "#" + f.channel(), new ColumnPruning());
            rows.add(new OutlierFeatureRow(f.tap(), kinds(f.tap()), f.channel(), f.blockShare(), f.positionShare(),
                    f.blocks(), p.layers, p.weights == 0 ? null : (double) p.pruned / p.weights));
        }
        return new DepthResults(blocks.stream().map(BlocksTable.Source::new).toList(), DepthStatistics.distances(depth),
                superWeights, rows);
    }

    /** Per job's layer, its channels' pruned rows as the per-layer statistics counted them. */
    private static Map<String, int[]> prunedRowsCounted(List<ChannelPruningStage.Job> jobs, List<LayerResult> analysed) {
        Map<String, LayerResult> byLayer = new HashMap<>();
        analysed.forEach(r -> byLayer.put(r.layer().name(), r));
        Map<String, int[]> out = new LinkedHashMap<>();
        for (ChannelPruningStage.Job j : jobs) {
            LayerResult r = byLayer.get(j.layer().name());
            if (r == null || r.prunedColumns() == null) {
                throw new IllegalStateException("the statistics of " + j.layer().name() + " did not count its outlier"
                        + " channels' pruned rows");
            }
            out.put(j.layer().name(), r.prunedColumns().rowsOf(j.channels()));
        }
        return out;
    }

    /**
     * Dense mode: the columns the per-layer statistics count for the outlier features stage one's depth
     * statistics give (the ones {@link #compute} asks about), or none for N:M masks, counted apart.
     */
    static OutlierColumns outlierColumns(DepthSums depth, JobOptions.Analysis analysis) {
        if (analysis.pattern().structured()) {
            return OutlierColumns.NONE;
        }
        return OutlierColumns.of(channelsByTap(DepthStatistics.outlierFeatures(depth, analysis.outlierBlockShare(),
                analysis.outlierPositionShare())));
    }

    /** Per tap kind with outlier features, their channels, in the features' order. */
    private static Map<String, int[]> channelsByTap(List<OutlierFeature> features) {
        Map<String, List<Integer>> byTap = new LinkedHashMap<>();
        features.forEach(f -> byTap.computeIfAbsent(f.tap(), t -> new ArrayList<>()).add(f.channel()));
        Map<String, int[]> out = new LinkedHashMap<>();
        byTap.forEach((tap, channels) -> out.put(tap, channels.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }

    /** One outlier channel's column over the layers reading it: the layers whose masks prune in it, and how much. */
    private static final class ColumnPruning {
        final List<String> layers = new ArrayList<>();
        long pruned;
        long weights;

        void add(PrunableLayer layer, int prunedRows) {
            if (prunedRows > 0) {
                layers.add(layer.name());
            }
            pruned += prunedRows;
            weights += layer.outFeatures();
        }
    }

    /** The same tables with each block's pruning side (OWL's ratios, sparsities) on its blocks row. */
    public DepthResults withPruning(List<BlockResult> pruning) {
        Map<Integer, BlockResult> byBlock = new LinkedHashMap<>();
        pruning.forEach(p -> byBlock.put(p.block(), p));
        List<BlocksTable.Source> rows = blocks.stream()
                .map(b -> byBlock.containsKey(b.block()) ? b.withPruning(byBlock.get(b.block())) : b).toList();
        return new DepthResults(rows, distances, superWeights, outlierFeatures);
    }

    /** One question per analysed layer reading a tap with outlier features: its channels among them. */
    private static List<ChannelPruningStage.Job> channelJobs(List<PrunableLayer> layers, List<OutlierFeature> features,
                                                            Map<String, float[]> scalerRows) {
        Map<String, int[]> byTap = channelsByTap(features);
        List<ChannelPruningStage.Job> jobs = new ArrayList<>();
        for (PrunableLayer l : layers) {
            int[] channels = byTap.get(l.tap().name());
            if (channels != null && scalerRows.containsKey(l.tapKey())) {
                jobs.add(new ChannelPruningStage.Job(l, channels, scalerRows.get(l.tapKey())));
            }
        }
        return jobs;
    }

    /** The layer kinds reading a tap, e.g. "q_proj,k_proj,v_proj". */
    static String kinds(String tap) {
        return Arrays.stream(LayerKind.values()).filter(k -> k.tap().name().equals(tap)).map(LayerKind::shortName)
                .collect(Collectors.joining(","));
    }

    /** What the report shows; {@code prunedStream} for a sequential run's tables. */
    public DepthSummary summary(boolean prunedStream) {
        return new DepthSummary(blocks.stream().map(BlocksTable.Source::depth).toList(), distances, superWeights,
                outlierFeatures, prunedStream);
    }
}
