package io.layerscope.results;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Writes rows held by the driver as a Parquet table directory in the shape Spark's writer leaves:
 * {@code NAME.parquet/part-00000-<uuid>-c000.zstd.parquet} (the codec's extension, as Spark names
 * it) and an empty {@code _SUCCESS}, through
 * the Hadoop file system the session configures for the path (checksums as Spark's writer leaves
 * them; tests install a file system whose disk fills up there). The result tables are a few MB at
 * most and already on the driver: a Spark job would only add its set-up.
 */
public final class ParquetTable {
    private ParquetTable() {
    }

    /** How the files are written: the Spark version the footer names (as Spark's writer does) and the codec. */
    public record Format(String sparkVersion, CompressionCodecName codec) {
    }

    /**
     * Writes {@code table} as {@code dir/NAME.parquet}, one row per source, made as they are written,
     * each with the run's id; the footer holds the provenance.
     */
    public static <T> void write(Configuration conf, java.nio.file.Path dir, Table<T> table, Iterator<T> sources,
                                 Format format, Provenance provenance) throws IOException {
        Iterable<Row> rows = () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return sources.hasNext();
            }

            @Override
            public Row next() {
                return table.row(sources.next(), provenance.runId());
            }
        };
        write(conf, dir.resolve(table.name() + ".parquet"), table.schema(), rows, format, provenance.footer());
    }

    /**
     * Writes {@code rows} (values as Spark's {@code Row} holds them for {@code schema}) to the new
     * directory {@code table}; fails if it exists. The rows are read once, in order, so they may be
     * made on the fly. {@code footer} goes into the footer's key-value metadata beside Spark's keys.
     */
    static void write(Configuration conf, java.nio.file.Path table, StructType schema, Iterable<Row> rows, Format format,
                      Map<String, String> footer) throws IOException {
        Path dir = new Path(table.toAbsolutePath().toUri());
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.exists(dir)) {
            throw new FileAlreadyExistsException(dir + " already exists");
        }
        if (!fs.mkdirs(dir)) {
            throw new IOException("cannot create " + dir);
        }
        Path file = new Path(dir, "part-00000-" + UUID.randomUUID() + "-c000" + format.codec().getExtension() + ".parquet");
        try (ParquetWriter<Row> writer = new Builder(HadoopOutputFile.fromPath(file, conf), schema, format.sparkVersion(), footer)
                .withConf(conf)
                .withWriteMode(ParquetFileWriter.Mode.CREATE)
                .withCompressionCodec(format.codec())
                .build()) {
            for (Row row : rows) {
                writer.write(row);
            }
        }
        fs.create(new Path(dir, "_SUCCESS"), false).close();
    }

    private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
        private final StructType schema;
        private final String sparkVersion;
        private final Map<String, String> footer;

        Builder(HadoopOutputFile file, StructType schema, String sparkVersion, Map<String, String> footer) {
            super(file);
            this.schema = schema;
            this.sparkVersion = sparkVersion;
            this.footer = footer;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(Configuration conf) {
            return new RowWriteSupport(schema, sparkVersion, footer);
        }
    }
}
