package io.layerscope.results;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.format.converter.ParquetMetadataConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * The Spark schema recorded in the footer of a table's Parquet files (by {@link ParquetTable}, or by
 * Spark's own writer), read on the driver. Reading a Parquet directory without a schema makes Spark
 * infer one with a Spark job that opens one footer and takes this same recorded schema from it: on a
 * short {@code query} that job is a good part of the start. Anything unusual (no data file, summary
 * files, a footer without the schema, a file that cannot be read) gives no schema, so that Spark
 * infers it and reports any damage as it always has.
 */
public final class ParquetFooterSchema {
    private ParquetFooterSchema() {
    }

    /**
     * The schema recorded in the first of {@code table}'s data files in name order, leaving out the
     * files Spark leaves out (names starting with _ or .); none when the directory holds anything a
     * plain table written in one go would not (a summary file, a subdirectory: partitions).
     */
    public static Optional<StructType> of(Path table, Configuration hadoopConf) {
        try {
            List<Path> files;
            try (Stream<Path> s = Files.list(table)) {
                files = s.sorted().toList();
            }
            if (files.stream().anyMatch(f -> isSummary(f.getFileName().toString()) || Files.isDirectory(f))) {
                return Optional.empty();
            }
            Optional<Path> first = files.stream().filter(f -> isData(f.getFileName().toString())).findFirst();
            if (first.isEmpty()) {
                return Optional.empty();
            }
            ParquetReadOptions footerOnly = ParquetReadOptions.builder()
                    .withMetadataFilter(ParquetMetadataConverter.SKIP_ROW_GROUPS).build();
            String json;
            try (ParquetFileReader reader = ParquetFileReader.open(
                    HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(first.get().toUri()), hadoopConf), footerOnly)) {
                json = reader.getFooter().getFileMetaData().getKeyValueMetaData().get(RowWriteSupport.SPARK_SCHEMA_KEY);
            }
            return json != null && DataType.fromJson(json) instanceof StructType s ? Optional.of(s) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean isData(String name) {
        return !name.startsWith("_") && !name.startsWith(".") && !name.endsWith("._COPYING_");
    }

    private static boolean isSummary(String name) {
        return name.equals("_metadata") || name.equals("_common_metadata");
    }
}
