package io.layerscope.results;

import io.layerscope.results.Column.Section;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.SuperWeight;
import java.util.List;

/** The depth tables besides {@code blocks}: block ranges, super-weight candidates, systematic outlier features. */
public final class DepthTables {
    /**
     * A systematic outlier feature and the layers it feeds.
     *
     * @param tap           the tap kind (ATTN_IN, ATTN_OUT, MLP_IN, MLP_ACT)
     * @param blocks        the blocks where it reaches |x| >= 6
     * @param prunedLayers  the layers fed by this channel whose Wanda mask prunes at least one weight in its column
     * @param prunedShare   the share of its column's weights, over every analysed layer fed by it, that their Wanda
     *                      masks prune; null when no analysed layer reads the tap
     */
    public record OutlierFeatureRow(String tap, String kinds, int channel, double blockShare, double positionShare,
                                    int[] blocks, List<String> prunedLayers, Double prunedShare) {
    }

    public static final Table<BlockDistance> BLOCK_DISTANCES = new Table<>("block_distances",
            "block range (start, span)", List.of(
                    Column.int32("start", Section.IDENTITY, "first block dropped; boundary start is the residual stream"
                            + " entering it (0 = embedding output)", BlockDistance::start),
                    Column.int32("span", Section.IDENTITY, "n: blocks dropped, start .. start + n - 1", BlockDistance::span),
                    Column.float64("angular_distance", Section.METRIC, "d(start, start + n) = arccos(cos(x_start, x_start+n))"
                            + " / pi on the last token of each sequence, averaged over sequences",
                            BlockDistance::angularDistance),
                    Column.int32("best_start", Section.METRIC, "for this span, the start with the smallest"
                            + " angular_distance (the lower one on ties): the range a depth-pruning user would drop",
                            BlockDistance::bestStart),
                    BlocksTable.bool("best", Section.METRIC, "whether start = best_start", d -> d.start() == d.bestStart())));

    public static final Table<SuperWeight> SUPER_WEIGHTS = new Table<>("super_weights",
            "block whose down_proj spikes at input and output on the same token", List.of(
                    Column.int32("block", Section.IDENTITY, "decoder block", SuperWeight::block),
                    Column.string("layer", Section.IDENTITY, "the down_proj layer, as in layers.layer",
                            w -> "model.layers." + w.block() + ".mlp.down_proj"),
                    Column.int32("sample", Section.IDENTITY, "calibration sample of both spikes", w -> w.input().sample()),
                    Column.int32("position", Section.IDENTITY, "token position of both spikes", w -> w.input().position()),
                    Column.int32("weight_row", Section.IDENTITY, "i: the channel of down_proj's largest |output|", SuperWeight::row),
                    Column.int32("weight_column", Section.IDENTITY, "j: the channel of down_proj's largest |input|",
                            SuperWeight::column),
                    Column.float32("weight", Section.METRIC, "the candidate super weight down_proj.weight[i, j]",
                            SuperWeight::weight),
                    Column.int32("weight_rank_in_row", Section.METRIC, "its rank by |W| in row i, 1 = largest (equal"
                            + " |W| at a lower column ranks first)", SuperWeight::rankInRow),
                    Column.float64("input_abs", Section.METRIC, "down_proj's largest |input|", w -> (double) w.input().abs()),
                    Column.float64("output_abs", Section.METRIC, "down_proj's largest |output|",
                            w -> (double) w.output().abs()),
                    Column.float64("sparsity", Section.METRIC, "the sparsity of the masks below: the block's"
                            + " (--sparsity, or OWL's for the block; sequential mode: the one its round pruned it at)",
                            SuperWeight::sparsity),
                    BlocksTable.<SuperWeight>bool("pruned_wanda_row", Section.METRIC, "whether Wanda's per-row mask prunes"
                            + " it (sequential mode: the mask of the block's round), also when down_proj is not among the"
                            + " analysed layers; null only without the scaler_row of down_proj's input, which a run writing"
                            + " this table always sums", SuperWeight::prunedWandaRow).orNull(),
                    BlocksTable.bool("pruned_magnitude_row", Section.METRIC, "whether the per-row magnitude mask prunes it",
                            SuperWeight::prunedMagnitudeRow),
                    BlocksTable.<SuperWeight>bool("pruned_wanda_2of4", Section.METRIC, "whether Wanda's 2:4 mask prunes it"
                            + " (sequential mode: from the round's scaler_row), also when down_proj is not among the"
                            + " analysed layers; null as `pruned_wanda_row`", SuperWeight::prunedWanda2of4).orNull()));

    public static final Table<OutlierFeatureRow> OUTLIER_FEATURES = new Table<>("outlier_features",
            "systematic outlier feature (tap kind, channel)", List.of(
                    Column.string("tap", Section.IDENTITY, "ATTN_IN, ATTN_OUT, MLP_IN or MLP_ACT: which Linear inputs",
                            OutlierFeatureRow::tap),
                    Column.string("kinds", Section.IDENTITY, "the layer kinds reading this tap, e.g. q_proj,k_proj,v_proj",
                            OutlierFeatureRow::kinds),
                    Column.int32("channel", Section.IDENTITY, "the input feature (a column of those layers' weights)",
                            OutlierFeatureRow::channel),
                    Column.float64("block_share", Section.METRIC, "share of the blocks run where |x| >= 6 at some"
                            + " calibration token (at least --outlier-block-share)", OutlierFeatureRow::blockShare),
                    Column.float64("position_share", Section.METRIC, "share of calibration token positions where"
                            + " |x| >= 6 in at least one block (at least --outlier-position-share)",
                            OutlierFeatureRow::positionShare),
                    Column.int32s("blocks", Section.METRIC, "the blocks where |x| >= 6 at some token",
                            OutlierFeatureRow::blocks),
                    new Column<OutlierFeatureRow>("wanda_pruned_layers", org.apache.spark.sql.types.DataTypes
                            .createArrayType(org.apache.spark.sql.types.DataTypes.StringType, false), false, Section.METRIC,
                            "analysed layers reading this channel, in any block, whose Wanda mask, as the run prunes (per row at the"
                            + " block's sparsity, or N:M), prunes at least one weight of its column (sequential mode: the"
                            + " mask from the sequential scaler_row)", r -> r.prunedLayers().toArray(new String[0]), null),
                    Column.<OutlierFeatureRow>float64("wanda_pruned_share", Section.METRIC, "share of the weights in this"
                            + " channel's column, over the analysed layers reading it (any block), that those Wanda masks"
                            + " prune: against the layers' sparsity, how far Wanda spares the feature; null when no"
                            + " analysed layer reads the tap", OutlierFeatureRow::prunedShare).orNull()));

    private DepthTables() {
    }
}
