package io.layerscope.results;

import io.layerscope.results.Column.Section;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.Peak;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.types.DataTypes;

/**
 * The {@code blocks} table: one row per decoder block run by stage one. A new per-block quantity
 * is a field of {@link Source} (or of what it holds) and one column here.
 */
public final class BlocksTable {
    /**
     * What a row is made from: one decoder block's depth statistics and its pruning side (OWL's
     * outlier ratios, the allocated and the actual sparsity), which may be null before it is known.
     */
    public record Source(BlockDepth depth, BlockResult pruning) {
        public Source {
            if (depth == null && pruning == null) {
                throw new IllegalArgumentException("a blocks row needs its depth statistics or its pruning side");
            }
        }

        public Source(BlockDepth depth) {
            this(depth, null);
        }

        /** A row without the depth statistics (--no-depth): their columns are null. */
        public static Source pruningOnly(BlockResult pruning) {
            return new Source(null, pruning);
        }

        public int block() {
            return depth != null ? depth.block() : pruning.block();
        }

        public Source withPruning(BlockResult p) {
            if (p.block() != block()) {
                throw new IllegalArgumentException("block " + p.block() + "'s pruning for block " + block());
            }
            return new Source(depth, p);
        }
    }

    /** What the depth columns that are otherwise never null say about --no-depth. */
    private static final String NO_DEPTH = "; null with --no-depth";

    public static final Table<Source> TABLE = new Table<>("blocks", "decoder block", columns());

    private BlocksTable() {
    }

    private static void pruning(List<Column<Source>> c, String name, String description, Function<BlockResult, Double> of) {
        c.add(Column.<Source>float64(name, Section.METRIC, description,
                s -> s.pruning() == null ? null : of.apply(s.pruning())).orNull());
    }

    /** A depth statistic of the row: null without them (--no-depth). */
    private static <V> Function<Source, V> depth(Function<BlockDepth, V> of) {
        return s -> s.depth() == null ? null : of.apply(s.depth());
    }

    /** A boolean column (the Column factories have none yet). */
    static <T> Column<T> bool(String name, Section section, String description, Function<? super T, Boolean> f) {
        return new Column<>(name, DataTypes.BooleanType, false, section, description, f::apply, null);
    }

    private static List<Column<Source>> columns() {
        List<Column<Source>> c = new ArrayList<>();
        c.add(Column.int32("block", Section.IDENTITY, "decoder block index, 0 .. num_hidden_layers-1", Source::block));
        c.add(Column.float64("block_influence", Section.METRIC, "ShortGPT's Block Influence: the mean over every"
                + " calibration token of 1 - cos(h_in, h_out), h_in and h_out the residual stream entering and leaving"
                + " the block (sequential mode: the pruned stream, leaving the pruned block)" + NO_DEPTH,
                depth(BlockDepth::blockInfluence)).orNull());
        c.add(Column.float64("angular_distance_next", Section.METRIC, "d(block, block + 1) = arccos(cos(h_in, h_out)) / pi"
                + " on the last token of each sequence, averaged over sequences (block_distances with span 1)" + NO_DEPTH,
                depth(BlockDepth::angularDistanceNext)).orNull());
        c.add(Column.float64("massive_top_abs", Section.METRIC, "the largest |h| of the block's output (residual stream)"
                + " over every calibration token and channel" + NO_DEPTH, depth(d -> (double) d.top().abs())).orNull());
        peakPlace(c, "massive_top_", "the largest |h|", BlockDepth::top);
        c.add(Column.float64s("massive_top3_abs", Section.METRIC, "the three largest |h| of the block output, largest"
                + " first (ties by lowest sample, position, channel)" + NO_DEPTH, depth(BlockDepth::top3)).orNull());
        c.add(Column.float64("massive_median_abs", Section.METRIC, "lower median (torch.median) of |h| over every token"
                + " and channel of the block output, truncated to bfloat16 (the float with its low 16 bits cleared)"
                + NO_DEPTH, depth(BlockDepth::medianAbs)).orNull());
        c.add(bool("massive", Section.METRIC, "Sun et al.'s massive activation: massive_top_abs > 100 and"
                + " > 1000 x massive_median_abs" + NO_DEPTH, depth(BlockDepth::massive)).orNull());
        c.add(Column.<Source>float64("down_proj_in_max_abs", Section.METRIC, "down_proj's largest |input|"
                + " (silu(gate) * up) over every calibration token (sequential mode: of the dense block over the pruned"
                + " stream, as the block's masks see it)", depth(d -> abs(d.downIn()))).orNull());
        peakPlace(c, "down_proj_in_", "down_proj's largest |input|; its channel is a column j of down_proj.weight",
                BlockDepth::downIn);
        c.add(Column.<Source>float64("down_proj_out_max_abs", Section.METRIC, "down_proj's largest |output| (before the"
                + " residual addition) over every calibration token (sequential mode: as down_proj_in_max_abs)",
                depth(d -> abs(d.downOut()))).orNull());
        peakPlace(c, "down_proj_out_", "down_proj's largest |output|; its channel is a row i of down_proj.weight",
                BlockDepth::downOut);
        pruning(c, "owl_outlier_ratio", "OWL's outlier ratio D of the block at the run's --owl-m, in percent: entries"
                + " of the block's seven Wanda metrics, concatenated, above M x their mean (from the dense statistics)",
                BlockResult::owlOutlierRatio);
        pruning(c, "owl_ratio_m3", "the same at M = 3", BlockResult::owlRatioM3);
        pruning(c, "owl_ratio_m5", "the same at M = 5 (OWL's default)", BlockResult::owlRatioM5);
        pruning(c, "owl_ratio_m7", "the same at M = 7", BlockResult::owlRatioM7);
        pruning(c, "sparsity_allocated", "the block's sparsity under the run's --allocation (uniform: --sparsity; owl:"
                + " OWL's allocation; N:M masks prune N/M whatever it says)", BlockResult::sparsityAllocated);
        pruning(c, "sparsity_actual", "sequential mode: the share of the block's Linear weights its masks prune; null"
                + " in dense mode", BlockResult::sparsityActual);
        return c;
    }

    private static Double abs(Peak p) {
        return p == null ? null : (double) p.abs();
    }

    /** sample, position and channel columns of a peak (ties by the lowest sample, position, channel). */
    private static void peakPlace(List<Column<Source>> c, String prefix, String what, Function<BlockDepth, Peak> peak) {
        c.add(Column.<Source>int32(prefix + "sample", Section.METRIC, "calibration sample of " + what,
                depth(d -> place(peak.apply(d), Peak::sample))).orNull());
        c.add(Column.<Source>int32(prefix + "position", Section.METRIC, "token position of " + what,
                depth(d -> place(peak.apply(d), Peak::position))).orNull());
        c.add(Column.<Source>int32(prefix + "channel", Section.METRIC, "channel of " + what,
                depth(d -> place(peak.apply(d), Peak::channel))).orNull());
    }

    private static Integer place(Peak p, Function<Peak, Integer> of) {
        return p == null ? null : of.apply(p);
    }
}
