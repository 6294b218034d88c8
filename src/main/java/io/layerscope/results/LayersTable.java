package io.layerscope.results;

import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.LayerSummary;
import io.layerscope.results.Column.Section;
import io.layerscope.stats.Distribution;
import io.layerscope.stats.LayerStats;
import io.layerscope.stats.OutlierRatios;
import io.layerscope.stats.ReconstructionErrors;
import io.layerscope.stats.Summary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@code layers} table: one row per analysed layer. The one definition of its columns; names are
 * part of the results contract (docs/METRICS.md has the reference, generated from this class). A new
 * per-layer statistic is a field of {@link LayerStats}, the code computing it, and one column here.
 */
public final class LayersTable {
    /** What a row is made from: an analysed layer and its picture's path in the results (null without one). */
    public record Source(LayerResult result, String png) {
        LayerStats stats() {
            return result.stats();
        }
    }

    /**
     * A distribution's column prefix, what it is over, where it is in the statistics, and the report's
     * heading of its mean (null: not in the report's table).
     */
    private record Quantity(String prefix, String what, Function<LayerStats, Distribution> of, String meanHeading) {
    }

    private static final List<Quantity> QUANTITIES = List.of(
            new Quantity("weight_abs_", "|W| over all out x in entries", LayerStats::weightAbs, null),
            new Quantity("act_norm_", "the activation norm sqrt(scaler_row) over the in input features", LayerStats::actNorm,
                    "act norm mean"),
            new Quantity("wanda_", "the Wanda metric |W| * sqrt(scaler_row) over all out x in entries", LayerStats::wanda,
                    "Wanda mean"),
            new Quantity("ria_", "the RIA metric (|W_ij| / sum_k |W_kj| + |W_ij| / sum_k |W_ik|) * scaler_row_j^0.25 over"
                    + " all out x in entries", LayerStats::ria, "RIA mean"));

    /** A summary statistic: its column suffix, description and where it is in the {@link Summary}. */
    private record Stat(String name, String description, Function<Summary, Double> of) {
    }

    private static final List<Stat> STATS = List.of(
            new Stat("mean", "mean of ", Summary::mean),
            new Stat("std", "sample standard deviation (n-1) of ", Summary::std),
            new Stat("min", "smallest of ", Summary::min),
            new Stat("max", "largest of ", Summary::max),
            new Stat("median", "lower median of ", Summary::median),
            new Stat("p01", "0.01 quantile (linear interpolation) of ", Summary::p01),
            new Stat("p99", "0.99 quantile (linear interpolation) of ", Summary::p99));

    public static final Table<Source> TABLE = new Table<>("layers", "analysed layer", columns());

    private LayersTable() {
    }

    /** The identity and the reported numbers of a row, for the overview chart and the report. */
    public static LayerSummary summary(Source s) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (Column<Source> c : TABLE.columns()) {
            if (c.display() != null) {
                Object v = c.valueOf(s);
                values.put(c.name(), v == null ? Double.NaN : ((Number) v).doubleValue());
            }
        }
        PrunableLayer l = s.result().layer();
        return new LayerSummary(l.name(), l.block(), l.kind().shortName(), l.outFeatures(), l.inFeatures(), values);
    }

    private static List<Column<Source>> columns() {
        List<Column<Source>> c = new ArrayList<>();
        c.add(Column.string("layer", Section.IDENTITY, "full module name, e.g. model.layers.0.self_attn.q_proj",
                s -> s.result().layer().name()));
        c.add(Column.int32("block", Section.IDENTITY, "decoder block index; -1 for lm_head",
                s -> s.result().layer().block()));
        c.add(Column.string("kind", Section.IDENTITY, "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or lm_head",
                s -> s.result().layer().kind().shortName()));
        c.add(Column.string("layer_group", Section.IDENTITY, "attention, mlp or head", s -> s.result().layer().group()));
        c.add(Column.int32("out_features", Section.IDENTITY, "rows of the weight W",
                s -> s.result().layer().outFeatures()));
        c.add(Column.int32("in_features", Section.IDENTITY, "columns of W: the input features",
                s -> s.result().layer().inFeatures()));
        c.add(Column.int64("nsamples", Section.IDENTITY, "calibration samples the activation statistics come from",
                s -> s.result().nsamples()));
        c.add(Column.int64("ntokens", Section.IDENTITY, "calibration tokens: nsamples x seqlen", s -> s.result().ntokens()));
        for (Quantity q : QUANTITIES) {
            distribution(c, q);
        }
        c.add(Column.float64("sparsity", Section.METRIC, "the sparsity every mask in this row was built for",
                s -> s.stats().masks().sparsity()));
        c.add(Column.<Source>float64("agree_wanda_magnitude_row", Section.METRIC,
                "share of entries where Wanda's per-row mask equals the per-row magnitude mask",
                s -> s.stats().masks().row()).reported("agree row", "%.4f", false));
        c.add(Column.<Source>float64("agree_wanda_magnitude_layer", Section.METRIC,
                "the same against magnitude pruning with one threshold for the layer (Wanda's prune_magnitude)",
                s -> s.stats().masks().layer()).reported("agree layer", "%.4f", false));
        c.add(Column.<Source>float64("agree_wanda_magnitude_2of4", Section.METRIC,
                "share of entries where Wanda's 2:4 mask equals the magnitude 2:4 mask",
                s -> s.stats().masks().twoOfFour()).reported("agree 2:4", "%.4f", false));
        c.add(Column.<Source>float64("agree_ria_wanda", Section.METRIC,
                "share of entries where RIA's layer-wise mask (RIA <= its value at rank floor(numel x sparsity), RIA's"
                        + " default) equals Wanda's per-row unstructured mask",
                s -> s.stats().masks().riaWanda()).reported("agree RIA", "%.4f", false));
        c.add(outliers(3, "", OutlierRatios::m3));
        c.add(outliers(5, " (OWL's default M)", OutlierRatios::m5));
        c.add(outliers(7, "", OutlierRatios::m7));
        c.add(drift("sparsity_target", "sequential mode: the sparsity the layer was pruned at (its block's under the"
                + " allocation); null in dense mode and for lm_head, which is not pruned", Drift::sparsityTarget));
        c.add(drift("sparsity_actual", "sequential mode: the share of the layer's entries its mask prunes; null in"
                + " dense mode and for lm_head", Drift::sparsityActual).reported("pruned", "%.4f", false));
        c.add(drift("drift_act_norm_cos", "sequential mode: cosine similarity of the sequential and the dense act_norm"
                + " vectors (1: the same direction); null in dense mode", Drift::actNormCos)
                .reported("drift cos", "%.4f", false));
        c.add(drift("drift_act_norm_ratio", "sequential mode: ||act_norm sequential||_2 / ||act_norm dense||_2; null"
                + " in dense mode", Drift::actNormRatio));
        c.add(drift("drift_mask_agreement", "sequential mode: share of entries where the Wanda mask from the sequential"
                + " statistics equals the one from the dense statistics (same sparsity and pattern); null in dense mode",
                Drift::maskAgreement).reported("drift masks", "%.4f", false));
        c.add(error("recon_err_wanda", "Wanda's per-row mask", ReconstructionErrors::wanda).reported("err Wanda", "%.4g", false));
        c.add(error("recon_err_magnitude_row", "the per-row magnitude mask", ReconstructionErrors::magnitudeRow)
                .reported("err mag row", "%.4g", false));
        c.add(error("recon_err_magnitude_layer", "the per-layer magnitude mask (Wanda's prune_magnitude)",
                ReconstructionErrors::magnitudeLayer).reported("err mag layer", "%.4g", false));
        c.add(error("recon_err_wanda_2of4", "Wanda's 2:4 mask", ReconstructionErrors::wanda2of4)
                .reported("err 2:4", "%.4g", false));
        c.add(error("recon_err_ria", "RIA's layer-wise mask", ReconstructionErrors::ria).reported("err RIA", "%.4g", false));
        c.add(Column.<Source>float64("recon_err_diag_wanda", Section.METRIC, "--gram: E_diag of Wanda's mask, sum over"
                + " pruned entries of W_ij^2 G_jj / tr(W G W^T): the part of recon_err_wanda that ignores correlations"
                + " between input features (what Wanda's metric minimises row by row); null without --gram",
                s -> finite(s, ReconstructionErrors::diagWanda)).orNull());
        c.add(Column.<Source>float64("recon_err_offdiag_factor", Section.METRIC, "--gram: recon_err_wanda /"
                + " recon_err_diag_wanda: how much the correlations Wanda ignores change its mask's error; null without"
                + " --gram", s -> finite(s, ReconstructionErrors::offDiagonalFactor)).orNull());
        c.add(Column.<Source>float64("participation_ratio", Section.METRIC, "--gram: (tr G)^2 / ||G||_F^2 of the layer's"
                + " input: the effective number of input directions the calibration data uses, 1 to in_features; null"
                + " without --gram", s -> s.result().tapGram() == null ? null
                        : finiteOrNull(s.result().tapGram().participationRatio())).orNull());
        c.add(Column.<Source>int32("dead_features", Section.METRIC, "--gram: input features with G_jj = 0, zero on every"
                + " calibration token; null without --gram",
                s -> s.result().tapGram() == null ? null : s.result().tapGram().deadFeatures()).orNull());
        c.add(Column.int32s("top_act_features", Section.METRIC,
                "up to 16 input features with the largest activation norm, largest first, ties by lower index",
                s -> s.stats().topActFeatures()));
        c.add(Column.<Source>string("png", Section.OUTPUT, "the layer's picture, relative to the results directory;"
                + " null without pictures", Source::png).orNull());
        c.add(Column.float64("seconds", Section.OUTPUT, "seconds the per-layer stage spent on this layer",
                s -> s.result().seconds()));
        return c;
    }

    private static void distribution(List<Column<Source>> c, Quantity q) {
        Function<Source, Distribution> d = s -> q.of().apply(s.stats());
        for (Stat st : STATS) {
            Column<Source> col = Column.<Source>float64(q.prefix() + st.name(), Section.DISTRIBUTION,
                    st.description() + q.what(), s -> st.of().apply(d.apply(s).summary())).orNull();
            if (st.name().equals("mean") && q.meanHeading() != null) {
                col = col.reported(q.meanHeading(), "%.4g", true);
            }
            c.add(col);
        }
        c.add(Column.float64s(q.prefix() + "hist_edges", Section.DISTRIBUTION,
                "histogram bin edges of " + q.what() + " (logarithmic bins; counts[k] counts edges[k] <= v < edges[k+1])",
                s -> d.apply(s).histogram().edges()));
        c.add(Column.int64s(q.prefix() + "hist_counts", Section.DISTRIBUTION, "histogram counts, under- and overflow"
                + " folded into the first and last bin", s -> d.apply(s).histogram().counts()));
        c.add(Column.int64(q.prefix() + "hist_underflow", Section.DISTRIBUTION, "values below the first edge, counted in"
                + " the first bin", s -> d.apply(s).histogram().underflow()));
        c.add(Column.int64(q.prefix() + "hist_overflow", Section.DISTRIBUTION, "values at or above the last edge,"
                + " counted in the last bin", s -> d.apply(s).histogram().overflow()));
    }

    private static Column<Source> drift(String name, String description, Function<Drift, Double> of) {
        return Column.<Source>float64(name, Section.METRIC, description,
                s -> s.result().drift() == null ? null : of.apply(s.result().drift())).orNull();
    }

    private static Column<Source> error(String name, String mask, Function<ReconstructionErrors, Double> of) {
        return Column.<Source>float64(name, Section.METRIC, "--gram: the output error of " + mask + " at the row's"
                + " sparsity (2:4: half), ||dW X||_F^2 / ||W X||_F^2 = tr(dW G dW^T) / tr(W G W^T) over the calibration"
                + " tokens; null without --gram", s -> finite(s, of)).orNull();
    }

    private static Double finite(Source s, Function<ReconstructionErrors, Double> of) {
        ReconstructionErrors e = s.stats().errors();
        return e == null ? null : finiteOrNull(of.apply(e));
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Column<Source> outliers(int m, String note, Function<OutlierRatios, Double> of) {
        return Column.<Source>float64("outlier_ratio_m" + m, Section.METRIC, "share of Wanda metric entries above " + m
                + " x the layer's mean" + note, s -> of.apply(s.stats().outliers())).reported("outliers M" + m, "%.5f", true);
    }
}
