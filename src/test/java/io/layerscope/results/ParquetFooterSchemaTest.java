package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.spark.SparkSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
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
 * The schema read from a table's footer against the schema Spark infers for the same directory
 * (Spark's own reading is the reference), and no schema wherever Spark's inference could differ.
 */
class ParquetFooterSchemaTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;

    static final StructType ALL_TYPES = new StructType()
            .add("i", DataTypes.IntegerType, false)
            .add("l", DataTypes.LongType, true)
            .add("f", DataTypes.FloatType, false)
            .add("d", DataTypes.DoubleType, true)
            .add("b", DataTypes.BooleanType, true)
            .add("s", DataTypes.StringType, true)
            .add("ints", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
            .add("maybe", DataTypes.createArrayType(DataTypes.DoubleType, true), true);
    static final List<Row> ROWS = List.of(
            RowFactory.create(1, 2L, 1.5f, 2.25, true, "q_proj", new Integer[] {3, 1}, new Double[] {1.0, null}),
            RowFactory.create(-7, null, Float.NaN, null, null, null, new Integer[0], null));

    @BeforeAll
    static void session() {
        spark = SparkSessions.getOrCreate("test");
    }

    /** Reading with the footer's schema gives the schema and rows Spark's own inference gives. */
    private static void assertSameAsInferred(Path table) {
        Optional<StructType> recorded = ParquetFooterSchema.of(table, new Configuration());
        assertTrue(recorded.isPresent(), table.toString());
        var inferred = spark.read().parquet(table.toString());
        var given = spark.read().schema(recorded.get()).parquet(table.toString());
        assertEquals(inferred.schema(), given.schema());
        assertEquals(inferred.collectAsList().toString(), given.collectAsList().toString());
    }

    @Test
    void theDriversTablesAndSparksGiveTheSchemaSparkInfers() throws IOException {
        Path byDriver = tmp.resolve("driver.parquet");
        ParquetTable.write(new Configuration(), byDriver, ALL_TYPES, ROWS,
                new ParquetTable.Format(spark.version(), CompressionCodecName.ZSTD), Map.of());
        assertSameAsInferred(byDriver);
        assertEquals(ALL_TYPES, ParquetFooterSchema.of(byDriver, new Configuration()).orElseThrow());

        Path bySpark = tmp.resolve("spark.parquet");
        spark.createDataFrame(ROWS, ALL_TYPES).repartition(2).write().mode(SaveMode.ErrorIfExists).parquet(bySpark.toString());
        assertSameAsInferred(bySpark);
    }

    @Test
    void noSchemaWhereSparkMightInferAnother() throws IOException {
        Configuration conf = new Configuration();
        Path onlyMarker = Files.createDirectories(tmp.resolve("empty.parquet"));
        Files.writeString(onlyMarker.resolve("_SUCCESS"), "");
        assertEquals(Optional.empty(), ParquetFooterSchema.of(onlyMarker, conf));
        assertEquals(Optional.empty(), ParquetFooterSchema.of(tmp.resolve("absent.parquet"), conf));

        Path summary = tmp.resolve("summary.parquet");
        ParquetTable.write(conf, summary, ALL_TYPES, ROWS, new ParquetTable.Format(spark.version(), CompressionCodecName.ZSTD), Map.of());
        Files.writeString(summary.resolve("_common_metadata"), "");
        assertEquals(Optional.empty(), ParquetFooterSchema.of(summary, conf));

        Path partitioned = tmp.resolve("partitioned.parquet");
        spark.createDataFrame(ROWS, ALL_TYPES).write().partitionBy("i").parquet(partitioned.toString());
        assertEquals(Optional.empty(), ParquetFooterSchema.of(partitioned, conf));

        // written by plain parquet-java: no Spark schema in the footer
        Path plain = Files.createDirectories(tmp.resolve("plain.parquet"));
        MessageType schema = MessageTypeParser.parseMessageType("message m { required int32 x; }");
        try (ParquetWriter<org.apache.parquet.example.data.Group> w = ExampleParquetWriter
                .builder(new org.apache.hadoop.fs.Path(plain.resolve("part-0.parquet").toUri())).withType(schema).build()) {
            w.write(new SimpleGroupFactory(schema).newGroup().append("x", 5));
        }
        assertEquals(Optional.empty(), ParquetFooterSchema.of(plain, conf));
        assertEquals(5, spark.read().parquet(plain.toString()).first().getInt(0));

        // the first data file by name is damaged: Spark is left to infer (and to name the damage)
        Path damaged = tmp.resolve("damaged.parquet");
        ParquetTable.write(conf, damaged, ALL_TYPES, ROWS, new ParquetTable.Format(spark.version(), CompressionCodecName.ZSTD), Map.of());
        Path part;
        try (var files = Files.list(damaged)) {
            part = files.filter(f -> f.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(part);
        Files.write(part, Arrays.copyOf(bytes, bytes.length / 2));
        Files.deleteIfExists(part.resolveSibling("." + part.getFileName() + ".crc"));
        assertEquals(Optional.empty(), ParquetFooterSchema.of(damaged, conf));
    }
}
