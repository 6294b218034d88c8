package io.layerscope.spark;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.Distribution;
import io.layerscope.stats.LayerStats;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet tables of a results directory (docs/METRICS.md, column reference): their schemas and how a
 * {@link LayerResult} or a calibration sample becomes rows. Column names are part of the contract.
 */
public final class ResultTables {
    public static final String LAYERS = "layers";
    public static final String ACTIVATION_NORMS = "activation_norms";
    public static final String CALIBRATION = "calibration";

    private static final String[] DISTRIBUTIONS = {"weight_abs_", "act_norm_", "wanda_"};
    private static final String[] SUMMARY = {"mean", "std", "min", "max", "median", "p01", "p99"};

    private ResultTables() {
    }

    public static StructType layersSchema() {
        List<StructField> f = new ArrayList<>();
        f.add(field("layer", DataTypes.StringType, false));
        f.add(field("block", DataTypes.IntegerType, false));
        f.add(field("kind", DataTypes.StringType, false));
        f.add(field("group", DataTypes.StringType, false));
        f.add(field("out_features", DataTypes.IntegerType, false));
        f.add(field("in_features", DataTypes.IntegerType, false));
        f.add(field("nsamples", DataTypes.LongType, false));
        f.add(field("ntokens", DataTypes.LongType, false));
        for (String p : DISTRIBUTIONS) {
            for (String s : SUMMARY) {
                f.add(field(p + s, DataTypes.DoubleType, true));
            }
            f.add(field(p + "hist_edges", DataTypes.createArrayType(DataTypes.DoubleType, false), false));
            f.add(field(p + "hist_counts", DataTypes.createArrayType(DataTypes.LongType, false), false));
            f.add(field(p + "hist_underflow", DataTypes.LongType, false));
            f.add(field(p + "hist_overflow", DataTypes.LongType, false));
        }
        f.add(field("sparsity", DataTypes.DoubleType, false));
        f.add(field("agree_wanda_magnitude_row", DataTypes.DoubleType, false));
        f.add(field("agree_wanda_magnitude_layer", DataTypes.DoubleType, false));
        f.add(field("agree_wanda_magnitude_2of4", DataTypes.DoubleType, false));
        f.add(field("outlier_ratio_m3", DataTypes.DoubleType, false));
        f.add(field("outlier_ratio_m5", DataTypes.DoubleType, false));
        f.add(field("outlier_ratio_m7", DataTypes.DoubleType, false));
        f.add(field("top_act_features", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
        f.add(field("png", DataTypes.StringType, true));
        f.add(field("seconds", DataTypes.DoubleType, false));
        return new StructType(f.toArray(new StructField[0]));
    }

    public static Row layerRow(LayerResult r, String pngPath) {
        PrunableLayer l = r.layer();
        LayerStats s = r.stats();
        List<Object> v = new ArrayList<>();
        v.add(l.name());
        v.add(l.block());
        v.add(l.kind().shortName());
        v.add(l.group());
        v.add(l.outFeatures());
        v.add(l.inFeatures());
        v.add(r.nsamples());
        v.add(r.ntokens());
        for (Distribution d : new Distribution[] {s.weightAbs(), s.actNorm(), s.wanda()}) {
            var sum = d.summary();
            v.add(sum.mean());
            v.add(sum.std());
            v.add(sum.min());
            v.add(sum.max());
            v.add(sum.median());
            v.add(sum.p01());
            v.add(sum.p99());
            v.add(boxed(d.histogram().edges()));
            v.add(boxed(d.histogram().counts()));
            v.add(d.histogram().underflow());
            v.add(d.histogram().overflow());
        }
        v.add(s.masks().sparsity());
        v.add(s.masks().row());
        v.add(s.masks().layer());
        v.add(s.masks().twoOfFour());
        v.add(s.outliers().m3());
        v.add(s.outliers().m5());
        v.add(s.outliers().m7());
        v.add(boxed(s.topActFeatures()));
        v.add(pngPath);
        v.add(r.seconds());
        return RowFactory.create(v.toArray());
    }

    public static StructType activationNormsSchema() {
        return new StructType(new StructField[] {
            field("layer", DataTypes.StringType, false),
            field("feature", DataTypes.IntegerType, false),
            field("scaler_row", DataTypes.FloatType, false),
            field("act_norm", DataTypes.FloatType, false),
        });
    }

    public static List<Row> activationNormRows(LayerResult r) {
        float[] norms = r.stats().activationNorms();
        float[] scaler = r.scalerRow();
        List<Row> rows = new ArrayList<>(norms.length);
        for (int j = 0; j < norms.length; j++) {
            rows.add(RowFactory.create(r.layer().name(), j, scaler[j], norms[j]));
        }
        return rows;
    }

    public static StructType calibrationSchema() {
        return new StructType(new StructField[] {
            field("sample", DataTypes.IntegerType, false),
            field("doc", DataTypes.IntegerType, false),
            field("start", DataTypes.IntegerType, false),
            field("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
        });
    }

    public static Row calibrationRow(CalibrationSample s) {
        return RowFactory.create(s.sample(), s.doc(), s.start(), boxed(s.tokens()));
    }

    private static StructField field(String name, DataType type, boolean nullable) {
        return DataTypes.createStructField(name, type, nullable);
    }

    private static Double[] boxed(double[] a) {
        Double[] b = new Double[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    private static Long[] boxed(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    private static Integer[] boxed(int[] a) {
        Integer[] b = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }
}
