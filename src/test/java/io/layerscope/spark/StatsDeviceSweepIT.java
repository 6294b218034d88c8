package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A demo sweep with --stats-device device (libtorch on the CPU) writes the layers and depth tables
 * of --stats-device java, dense and sequential: every column equal, the double sums (means, stds, block influence and what
 * derives from them) within 1e-6 relative; the per-layer time and the run's id aside.
 */
class StatsDeviceSweepIT {
    private static final double RELATIVE = 1e-6;

    @TempDir
    static Path tmp;

    /**
     * Dense, and sequential: there the rounds' layer statistics, the dense passes' marks and the pruned
     * passes' residual streams on the device.
     */
    @ParameterizedTest
    @EnumSource(value = PruneMode.class, names = {"DENSE", "SEQUENTIAL"})
    void theDevicePathWritesThePlainPathsTables(PruneMode mode) throws Exception {
        Path cache = tmp.resolve("cache");
        Path model = DemoModel.ensure(cache);
        SparkSession spark = SparkSessions.getOrCreate("test");
        String name = mode.name().toLowerCase(java.util.Locale.ROOT);
        assertSameTables(spark, sweep(model, cache, "java-" + name, StatsDevice.JAVA, mode),
                sweep(model, cache, "device-" + name, StatsDevice.DEVICE, mode));
    }

    private static void assertSameTables(SparkSession spark, Path java, Path device) throws Exception {
        assertEquals("device", new ObjectMapper().readTree(device.resolve("run.json").toFile())
                .at("/options/analysis/statsDevice").asText());

        List<Row> expected = rows(spark, java, "layers", "layer");
        List<Row> actual = rows(spark, device, "layers", "layer");
        assertTrue(expected.size() >= 15, expected.size() + " layers");
        int compared = compare("layers", expected, actual);
        assertTrue(compared > expected.size() * 50, "compared " + compared + " values");

        // the depth statistics: device reductions in the forward against host scans
        List<Row> blocks = rows(spark, java, "blocks", "block");
        assertEquals(4, blocks.size());
        compare("blocks", blocks, rows(spark, device, "blocks", "block"));
        compare("block_distances", rows(spark, java, "block_distances", "start, span"),
                rows(spark, device, "block_distances", "start, span"));
        compare("super_weights", rows(spark, java, "super_weights", "block"), rows(spark, device, "super_weights", "block"));
        List<Row> features = rows(spark, java, "outlier_features", "tap, channel");
        assertTrue(features.size() > 0, "no outlier feature to compare");
        compare("outlier_features", features, rows(spark, device, "outlier_features", "tap, channel"));
    }

    private static List<Row> rows(SparkSession spark, Path dir, String table, String order) {
        return spark.read().parquet(dir.resolve(table + ".parquet").toString()).drop("run_id")
                .orderBy(Arrays.stream(order.split(", ")).map(org.apache.spark.sql.functions::col)
                        .toArray(org.apache.spark.sql.Column[]::new)).collectAsList();
    }

    /** Every value of two tables' rows but the per-layer time, as {@link #assertSame}; the values compared. */
    private static int compare(String table, List<Row> expected, List<Row> actual) {
        assertEquals(expected.size(), actual.size(), table);
        int compared = 0;
        for (int r = 0; r < expected.size(); r++) {
            StructField[] fields = expected.get(r).schema().fields();
            for (int c = 0; c < fields.length; c++) {
                if (!Set.of("seconds").contains(fields[c].name())) {
                    assertSame(table + " row " + r + " " + fields[c].name(), expected.get(r).get(c), actual.get(r).get(c));
                    compared++;
                }
            }
        }
        return compared;
    }

    private static void assertSame(String where, Object expected, Object actual) {
        if (expected instanceof Double || expected instanceof Float) {
            double e = ((Number) expected).doubleValue();
            double a = ((Number) actual).doubleValue();
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a), where + ": " + a);
            } else {
                assertEquals(e, a, RELATIVE * Math.abs(e), where);
            }
        } else if (expected instanceof Seq<?> seq) {
            List<?> e = CollectionConverters.asJava(seq);
            List<?> a = CollectionConverters.asJava((Seq<?>) actual);
            assertEquals(e.size(), a.size(), where);
            for (int i = 0; i < e.size(); i++) {
                assertSame(where + "[" + i + "]", e.get(i), a.get(i));
            }
        } else if (expected instanceof Row row) {
            for (int i = 0; i < row.size(); i++) {
                assertSame(where + "." + i, row.get(i), ((Row) actual).get(i));
            }
        } else if (expected instanceof byte[] bytes) {
            assertTrue(Arrays.equals(bytes, (byte[]) actual), where);
        } else {
            assertEquals(expected, actual, where);
        }
    }

    private static Path sweep(Path model, Path cache, String name, StatsDevice where, PruneMode mode) {
        Path out = tmp.resolve(name);
        new SweepJob(new JobOptions("sweep",
                new JobOptions.Model(model.toString(), null, null, null, model, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 8, 64, 0, ComputeDtype.FLOAT32, 1, 1),
                new JobOptions.Analysis(null, false, 0.5, mode, SparsityPattern.UNSTRUCTURED, Allocation.uniform())
                        .withStatsDevice(where),
                new JobOptions.Output(out, null, false, null)), SweepJobIT.quiet()).run();
        return out;
    }
}
