package io.layerscope.results;

import io.layerscope.LayerscopeException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.spark.SparkConf;

/**
 * The compression of the result tables, chosen as Spark chooses it for its own Parquet writes: the
 * session's {@value #SETTING} (conf/spark-defaults.conf sets it), with Spark's short names. Unset,
 * it is zstd rather than Spark's snappy: smaller files, and every current Parquet reader has it.
 */
public final class ParquetCodec {
    public static final String SETTING = "spark.sql.parquet.compression.codec";
    public static final CompressionCodecName DEFAULT = CompressionCodecName.ZSTD;

    /**
     * Spark's names for the codecs the driver's writer can use. Spark also names lzo and brotli,
     * whose codecs are not in the jar (parquet-hadoop would fail only when the tables are written).
     */
    private static final Map<String, CompressionCodecName> NAMES = new TreeMap<>(Map.of(
            "none", CompressionCodecName.UNCOMPRESSED,
            "uncompressed", CompressionCodecName.UNCOMPRESSED,
            "snappy", CompressionCodecName.SNAPPY,
            "gzip", CompressionCodecName.GZIP,
            "lz4", CompressionCodecName.LZ4,
            "lz4_raw", CompressionCodecName.LZ4_RAW,
            "zstd", CompressionCodecName.ZSTD));

    private ParquetCodec() {
    }

    /**
     * The codec a Spark application's configuration (spark-defaults.conf, --conf) names, or the
     * default when it sets none. The context's configuration, not the SQL session's: building the
     * session state costs seconds at start-up, and Spark's own default (snappy) must not count as set.
     */
    public static CompressionCodecName of(SparkConf conf) {
        return of(conf.contains(SETTING) ? conf.get(SETTING) : (String) null);
    }

    /** The codec {@code value} of {@value #SETTING} names (case as Spark ignores it); null means unset. */
    public static CompressionCodecName of(String value) {
        if (value == null) {
            return DEFAULT;
        }
        CompressionCodecName codec = NAMES.get(value.trim().toLowerCase(Locale.ROOT));
        if (codec == null) {
            throw new LayerscopeException(SETTING + " is \"" + value + "\", which layerscope cannot write its Parquet"
                    + " tables with; set it (in conf/spark-defaults.conf or with --conf) to one of "
                    + String.join(", ", NAMES.keySet()) + ", or leave it unset for " + DEFAULT.name().toLowerCase(Locale.ROOT)
                    + ".");
        }
        return codec;
    }
}
