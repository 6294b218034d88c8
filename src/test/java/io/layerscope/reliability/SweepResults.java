package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.layerscope.spark.RunRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The tables of a results directory read back (with parquet-hadoop, no Spark job), keyed for comparison: calibration rows
 * by sample, activation norms by (layer, feature), layer rows by name, the depth tables' rows by block (and span).
 * Two runs of the same options must agree: the calibration table exactly, every number within a relative tolerance.
 */
record SweepResults(Map<Integer, String> calibration, Map<String, double[]> norms, Map<String, Map<String, Object>> layers,
                    Map<String, Map<String, Object>> depth) {
    /** The depth tables and the columns that name a row of each. */
    private static final Map<String, List<String>> DEPTH_KEYS = Map.of("blocks", List.of("block"),
            "block_distances", List.of("start", "span"), "super_weights", List.of("block"),
            "outlier_features", List.of("tap", "channel"));

    /** Columns that legitimately differ between runs. */
    private static final Set<String> UNSTABLE = Set.of("seconds", "run_id");

    static SweepResults read(Path dir) throws IOException {
        Map<Integer, String> calibration = new TreeMap<>();
        for (Map<String, Object> r : ParquetTable.read(dir.resolve("calibration.parquet"))) {
            calibration.put((Integer) r.get("sample"), r.get("doc") + "|" + r.get("start") + "|" + r.get("tokens"));
        }
        Map<String, double[]> norms = new TreeMap<>();
        for (Map<String, Object> r : ParquetTable.read(dir.resolve("activation_norms.parquet"))) {
            norms.put(r.get("layer") + "#" + r.get("feature"), new double[] {
                ((Number) r.get("scaler_row")).doubleValue(), ((Number) r.get("act_norm")).doubleValue()});
        }
        Map<String, Map<String, Object>> layers = new TreeMap<>();
        for (Map<String, Object> r : ParquetTable.read(dir.resolve("layers.parquet"))) {
            layers.put((String) r.get("layer"), r);
        }
        Map<String, Map<String, Object>> depth = new TreeMap<>();
        for (var t : DEPTH_KEYS.entrySet()) {
            if (Files.exists(dir.resolve(t.getKey() + ".parquet"))) {
                for (Map<String, Object> r : ParquetTable.read(dir.resolve(t.getKey() + ".parquet"))) {
                    depth.put(t.getKey() + "#" + t.getValue().stream().map(k -> String.valueOf(r.get(k))).toList(), r);
                }
            }
        }
        assertEquals(RunRecord.read(dir).calibration().windows().size(), calibration.size(), "run.json windows");
        return new SweepResults(calibration, norms, layers, depth);
    }

    /**
     * Asserts {@code actual} equals {@code expected}: the calibration table identical, every number
     * within {@code relTol}; returns the largest relative difference seen (for the report).
     */
    static double assertSame(SweepResults expected, SweepResults actual, double relTol) {
        assertEquals(expected.calibration(), actual.calibration(), "calibration table");
        assertEquals(expected.norms().keySet(), actual.norms().keySet(), "activation_norms rows");
        assertEquals(expected.layers().keySet(), actual.layers().keySet(), "layers rows");
        double worst = 0;
        for (var e : expected.norms().entrySet()) {
            double[] a = e.getValue();
            double[] b = actual.norms().get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, check(e.getKey() + (i == 0 ? " scaler_row" : " act_norm"), a[i], b[i], relTol));
            }
        }
        assertEquals(expected.depth().keySet(), actual.depth().keySet(), "depth tables' rows");
        worst = Math.max(worst, compareRows(expected.layers(), actual.layers(), relTol));
        return Math.max(worst, compareRows(expected.depth(), actual.depth(), relTol));
    }

    /** Every stable column of rows with the same keys; the largest relative difference. */
    private static double compareRows(Map<String, Map<String, Object>> expected, Map<String, Map<String, Object>> actual,
                                      double relTol) {
        double worst = 0;
        for (var e : expected.entrySet()) {
            Map<String, Object> a = e.getValue();
            Map<String, Object> b = actual.get(e.getKey());
            assertEquals(a.keySet(), b.keySet(), e.getKey() + " columns");
            for (String column : a.keySet()) {
                if (!UNSTABLE.contains(column)) {
                    worst = Math.max(worst, compare(e.getKey() + "." + column, a.get(column), b.get(column), relTol));
                }
            }
        }
        return worst;
    }

    private static double compare(String what, Object x, Object y, double relTol) {
        if (x instanceof Double dx && y instanceof Double dy) {
            return check(what, dx, dy, relTol);
        }
        if (x instanceof List<?> lx && y instanceof List<?> ly) {
            assertEquals(lx.size(), ly.size(), what + " length");
            double worst = 0;
            for (int i = 0; i < lx.size(); i++) {
                worst = Math.max(worst, compare(what + "[" + i + "]", lx.get(i), ly.get(i), relTol));
            }
            return worst;
        }
        assertEquals(x, y, what);
        return 0;
    }

    private static double check(String what, double a, double b, double relTol) {
        if (Double.isNaN(a) || Double.isNaN(b)) {
            assertEquals(Double.isNaN(a), Double.isNaN(b), what + ": " + a + " vs " + b);
            return 0;
        }
        double scale = Math.max(Math.abs(a), Math.abs(b));
        double rel = scale == 0 ? 0 : Math.abs(a - b) / scale;
        if (rel > relTol) {
            fail(what + ": " + a + " vs " + b + " (relative difference " + rel + " > " + relTol + ")");
        }
        return rel;
    }

    /** Nothing but DIR's own entries (no .DIR.staging-*, .DIR.lock, .DIR.replaced-*) beside DIR in its parent. */
    static void assertNoLeftovers(Path dir) throws IOException {
        String name = dir.getFileName().toString();
        try (Stream<Path> s = Files.list(dir.getParent())) {
            List<String> strays = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("." + name + ".")).toList();
            assertTrue(strays.isEmpty(), "left beside " + dir + ": " + strays);
        }
    }
}
