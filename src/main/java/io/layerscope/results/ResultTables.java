package io.layerscope.results;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.results.Column.Section;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Every table of a results directory, each one definition ({@link Table}); the big {@code layers}
 * table is defined in {@link LayersTable}.
 */
public final class ResultTables {
    /** One input feature of one layer: a row of {@code activation_norms}. */
    public record Feature(String layer, int feature, float scalerRow, float actNorm, Float scalerRowDense) {
    }

    public static final Table<LayersTable.Source> LAYERS = LayersTable.TABLE;

    public static final Table<Feature> ACTIVATION_NORMS = new Table<>("activation_norms",
            "input feature of an analysed layer", List.of(
                    Column.string("layer", Section.IDENTITY, "the layer, as in layers.layer", Feature::layer),
                    Column.int32("feature", Section.IDENTITY, "input feature index j, 0 .. in_features-1", Feature::feature),
                    Column.float32("scaler_row", Section.METRIC, "Wanda's scaler_row[j]: the sum over every"
                            + " calibration token of x_j squared, divided by nsamples (float32)", Feature::scalerRow),
                    Column.float32("act_norm", Section.METRIC, "sqrt(scaler_row[j]) in float32: the activation norm the"
                            + " Wanda metric multiplies |W| by", Feature::actNorm),
                    Column.<Feature>float32("scaler_row_dense", Section.METRIC, "sequential mode: the dense forward's"
                            + " scaler_row[j] beside the sequential one (scaler_row); null in dense mode",
                            Feature::scalerRowDense).orNull()));

    public static final Table<CalibrationSample> CALIBRATION = new Table<>("calibration", "calibration sample",
            List.of(
                    Column.int32("sample", Section.IDENTITY, "sample index, 0 .. nsamples-1", CalibrationSample::sample),
                    Column.int32("doc", Section.IDENTITY, "index of the document it was cut from, in the calibration"
                            + " files' order", CalibrationSample::doc),
                    Column.int32("start", Section.IDENTITY, "first token of the window within the tokenized document",
                            CalibrationSample::start),
                    Column.int32s("tokens", Section.IDENTITY, "the window's seqlen token ids", CalibrationSample::tokens)));

    /** Every table, in the order a job writes them. */
    public static final List<Table<?>> ALL = List.of(LAYERS, ACTIVATION_NORMS, CALIBRATION, BlocksTable.TABLE,
            DepthTables.BLOCK_DISTANCES, DepthTables.SUPER_WEIGHTS, DepthTables.OUTLIER_FEATURES);

    private ResultTables() {
    }

    /** A layer's {@code activation_norms} rows, made one at a time (a 70B model has millions of them). */
    public static Stream<Feature> features(LayerResult r) {
        String name = r.layer().name();
        float[] scaler = r.scalerRow();
        float[] norms = r.stats().activationNorms();
        float[] dense = r.drift() == null ? null : r.drift().denseScalerRow();
        return IntStream.range(0, norms.length).mapToObj(j -> new Feature(name, j, scaler[j], norms[j],
                dense == null ? null : dense[j]));
    }
}
