package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.SparkSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.spark.SparkConf;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's Parquet tables against Spark's own Parquet writer, which is the reference: the same
 * rows written both ways must give the same Parquet schema, the same Spark schema in the footer and
 * the same rows when Spark reads them back.
 */
public class ParquetTableTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;

    @BeforeAll
    static void session() {
        spark = SparkSessions.getOrCreate("test");
    }

    /** Every type the writer supports, nulls where allowed, empty arrays and arrays holding nulls. */
    @Test
    void everySupportedTypeWithNullsAndEmptyArrays() throws Exception {
        StructType schema = new StructType()
                .add("i", DataTypes.IntegerType, false)
                .add("l", DataTypes.LongType, true)
                .add("f", DataTypes.FloatType, false)
                .add("d", DataTypes.DoubleType, true)
                .add("b", DataTypes.BooleanType, true)
                .add("s", DataTypes.StringType, true)
                .add("ints", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
                .add("maybe", DataTypes.createArrayType(DataTypes.DoubleType, true), true)
                .add("names", DataTypes.createArrayType(DataTypes.StringType, false), true);
        List<Row> rows = List.of(
                RowFactory.create(1, 2L, 1.5f, 2.25, true, "model.layers.0.mlp.up_proj \u2016X\u2016",
                        new Integer[] {3, 1, 2}, new Double[] {1.0, null, -0.0}, new String[] {"a", "b"}),
                RowFactory.create(-7, null, Float.NaN, null, null, null, new Integer[0], null, new String[0]),
                RowFactory.create(Integer.MAX_VALUE, Long.MIN_VALUE, Float.MIN_VALUE, Double.POSITIVE_INFINITY, false, "",
                        new Integer[] {0}, new Double[0], null));
        assertSameAsSparksWriter(spark, tmp.resolve("all-types"), schema, rows);
    }

    @Test
    void anExistingTableIsNotOverwritten() throws Exception {
        Path table = Files.createDirectories(tmp.resolve("existing.parquet"));
        Files.writeString(table.resolve("keep"), "x");
        StructType schema = new StructType().add("i", DataTypes.IntegerType, false);
        assertThrows(FileAlreadyExistsException.class, () -> ParquetTable.write(new Configuration(), table, schema,
                List.of(RowFactory.create(1)), zstd(spark), Map.of()));
        assertEquals(List.of("keep"), list(table));
    }

    @Test
    void aNullInARequiredColumnOrAnUnsupportedTypeIsRefusedByName() {
        StructType required = new StructType().add("layer", DataTypes.StringType, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ParquetTable.write(
                new Configuration(), tmp.resolve("null.parquet"), required, List.of(RowFactory.create((Object) null)),
                zstd(spark), Map.of()));
        assertEquals("column layer is not nullable but is null", e.getMessage());
        StructType dates = new StructType().add("day", DataTypes.DateType, false);
        e = assertThrows(IllegalArgumentException.class, () -> RowWriteSupport.parquetSchema(dates));
        assertEquals("column day: type date is not supported", e.getMessage());
    }

    /**
     * Writes {@code rows} with Spark's DataFrame writer and with {@link ParquetTable} under {@code dir},
     * and asserts the two tables are the same to a reader.
     */
    public static void assertSameAsSparksWriter(SparkSession spark, Path dir, StructType schema, List<Row> rows) throws IOException {
        Path bySpark = dir.resolve("spark.parquet");
        Path byDriver = dir.resolve("driver.parquet");
        spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(bySpark.toString());
        ParquetTable.write(spark.sparkContext().hadoopConfiguration(), byDriver, schema, rows, zstd(spark), Map.of());

        FileMetaData expected = footer(bySpark);
        FileMetaData actual = footer(byDriver);
        assertEquals(expected.getSchema(), actual.getSchema(), "Parquet schema");
        assertEquals(expected.getKeyValueMetaData().get(RowWriteSupport.SPARK_SCHEMA_KEY),
                actual.getKeyValueMetaData().get(RowWriteSupport.SPARK_SCHEMA_KEY), "Spark schema in the footer");
        assertTrue(Files.exists(byDriver.resolve("_SUCCESS")));

        Dataset<Row> read = spark.read().parquet(byDriver.toString());
        assertEquals(spark.read().parquet(bySpark.toString()).schema(), read.schema());
        // Spark's file sources read every column as nullable, whoever wrote the file
        assertEquals(schema.asNullable(), read.schema());
        assertEquals(sorted(spark.read().parquet(bySpark.toString()).collectAsList()), sorted(read.collectAsList()));
        assertFalse(rows.isEmpty());
        assertEquals(rows.size(), read.count());
    }

    private static ParquetTable.Format zstd(SparkSession spark) {
        return new ParquetTable.Format(spark.version(), CompressionCodecName.ZSTD);
    }

    /**
     * Each codec name Spark's setting takes gives files in that codec (as the footer's column chunks
     * say), named with its extension as Spark names them, that Spark reads back; the footer carries
     * the extra key-value pairs.
     */
    @Test
    void everyCodecSparksSettingNamesWritesFilesSparkReads() throws Exception {
        StructType schema = new StructType().add("x", DataTypes.LongType, false).add("s", DataTypes.StringType, false);
        List<Row> rows = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            rows.add(RowFactory.create(i * i, "row " + i % 7));
        }
        Map<String, String> names = Map.of("none", "UNCOMPRESSED:", "uncompressed", "UNCOMPRESSED:", "snappy", "SNAPPY:.snappy",
                "gzip", "GZIP:.gz", "lz4", "LZ4:.lz4hadoop", "lz4_raw", "LZ4_RAW:.lz4raw", "ZSTD", "ZSTD:.zstd");
        for (var e : names.entrySet()) {
            Path table = tmp.resolve("codec-" + e.getKey() + ".parquet");
            ParquetTable.write(new Configuration(), table, schema, rows,
                    new ParquetTable.Format(spark.version(), ParquetCodec.of(e.getKey())), Map.of("layerscope.run_id", "r1"));
            String[] expected = e.getValue().split(":", -1);
            Path part = parts(table).get(0);
            assertTrue(part.getFileName().toString().matches("part-00000-[0-9a-f-]{36}-c000" + expected[1].replace(".", "\\.")
                    + "\\.parquet"), part.toString());
            try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
                    new org.apache.hadoop.fs.Path(part.toUri()), new Configuration()))) {
                for (var block : reader.getFooter().getBlocks()) {
                    for (var column : block.getColumns()) {
                        assertEquals(expected[0], column.getCodec().name(), e.getKey());
                    }
                }
                assertEquals("r1", reader.getFooter().getFileMetaData().getKeyValueMetaData().get("layerscope.run_id"));
            }
            // 0^2 + 1^2 + ... + 999^2 = 999 * 1000 * 1999 / 6, and 143 of the i below 1000 are 3 modulo 7
            assertEquals(332833500L, spark.read().parquet(table.toString()).selectExpr("sum(x)").first().getLong(0), e.getKey());
            assertEquals(143, spark.read().parquet(table.toString()).where("s = 'row 3'").count(), e.getKey());
        }
        assertEquals(CompressionCodecName.ZSTD, ParquetCodec.of((String) null));
    }

    @Test
    void aCodecLayerscopeCannotWriteIsRefusedNamingTheSetting() {
        for (String bad : new String[] {"lzo", "brotli", "zip", ""}) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ParquetCodec.of(bad));
            assertEquals("spark.sql.parquet.compression.codec is \"" + bad + "\", which layerscope cannot write its Parquet"
                    + " tables with; set it (in conf/spark-defaults.conf or with --conf) to one of gzip, lz4, lz4_raw, none,"
                    + " snappy, uncompressed, zstd, or leave it unset for zstd.", e.getMessage());
        }
    }

    @Test
    void theCodecIsTheApplicationsSettingElseZstd() {
        SparkConf conf = new SparkConf(false);
        assertEquals(CompressionCodecName.ZSTD, ParquetCodec.of(conf));
        conf.set(ParquetCodec.SETTING, "gzip");
        assertEquals(CompressionCodecName.GZIP, ParquetCodec.of(conf));
        conf.set(ParquetCodec.SETTING, "lzo");
        assertThrows(LayerscopeException.class, () -> ParquetCodec.of(conf));
    }

    private static List<Path> parts(Path table) throws IOException {
        return list(table).stream().filter(n -> n.endsWith(".parquet")).map(table::resolve).toList();
    }

    private static FileMetaData footer(Path table) throws IOException {
        List<Path> parts = parts(table);
        assertEquals(1, parts.size(), table + ": " + list(table));
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(parts.get(0).toUri()), new Configuration()))) {
            return reader.getFooter().getFileMetaData();
        }
    }

    /** Rows as comparable text (arrays printed by value), sorted. */
    private static List<String> sorted(List<Row> rows) {
        List<String> text = new ArrayList<>();
        for (Row r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length(); i++) {
                Object v = r.get(i);
                b.append(v instanceof scala.collection.Seq<?> seq ? seq.mkString("[", ",", "]") : String.valueOf(v)).append('|');
            }
            text.add(b.toString());
        }
        text.sort(null);
        return text;
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
