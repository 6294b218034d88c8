package io.layerscope.results;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Writes Spark {@link Row}s with parquet-hadoop, laid out as Spark's own Parquet writer lays out the
 * same {@link StructType} (its default, non-legacy format): int, long, float, double, boolean and
 * string columns, and arrays of those as three-level LIST groups. The Spark schema goes into the
 * footer under Spark's key, so Spark reads the columns back with exactly the types written; other
 * key-value metadata (layerscope's provenance) goes beside it.
 *
 * <p>It exists so the driver can write the small result tables itself: through Spark SQL, a fresh
 * JVM's first writes cost seconds of planning, code generation and task serialisation.
 */
final class RowWriteSupport extends WriteSupport<Row> {
    /** The footer key under which Spark keeps a file's Spark schema (as JSON). */
    static final String SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata";
    static final String SPARK_VERSION_KEY = "org.apache.spark.version";

    private final StructType schema;
    private final MessageType parquetSchema;
    private final String sparkVersion;
    private final Map<String, String> extraFooter;
    private RecordConsumer out;

    RowWriteSupport(StructType schema, String sparkVersion, Map<String, String> extraFooter) {
        this.schema = schema;
        this.parquetSchema = parquetSchema(schema);
        this.sparkVersion = sparkVersion;
        this.extraFooter = Map.copyOf(extraFooter);
    }

    /** The Parquet schema Spark writes for {@code schema}. */
    static MessageType parquetSchema(StructType schema) {
        Types.MessageTypeBuilder message = Types.buildMessage();
        for (StructField f : schema.fields()) {
            message.addField(column(f.name(), f.dataType(), f.nullable()));
        }
        return message.named("spark_schema");
    }

    private static Type column(String name, DataType type, boolean nullable) {
        Type.Repetition repetition = nullable ? Type.Repetition.OPTIONAL : Type.Repetition.REQUIRED;
        if (type instanceof ArrayType array) {
            return Types.buildGroup(repetition).as(LogicalTypeAnnotation.listType())
                    .addField(Types.repeatedGroup()
                            .addField(column("element", array.elementType(), array.containsNull()))
                            .named("list"))
                    .named(name);
        }
        return Types.primitive(primitive(type, name), repetition)
                .as(type.equals(DataTypes.StringType) ? LogicalTypeAnnotation.stringType() : null)
                .named(name);
    }

    private static PrimitiveTypeName primitive(DataType type, String name) {
        if (type.equals(DataTypes.IntegerType)) {
            return PrimitiveTypeName.INT32;
        } else if (type.equals(DataTypes.LongType)) {
            return PrimitiveTypeName.INT64;
        } else if (type.equals(DataTypes.FloatType)) {
            return PrimitiveTypeName.FLOAT;
        } else if (type.equals(DataTypes.DoubleType)) {
            return PrimitiveTypeName.DOUBLE;
        } else if (type.equals(DataTypes.BooleanType)) {
            return PrimitiveTypeName.BOOLEAN;
        } else if (type.equals(DataTypes.StringType)) {
            return PrimitiveTypeName.BINARY;
        }
        throw new IllegalArgumentException("column " + name + ": type " + type.simpleString() + " is not supported");
    }

    @Override
    public WriteContext init(Configuration configuration) {
        Map<String, String> footer = new HashMap<>(extraFooter);
        footer.put(SPARK_SCHEMA_KEY, schema.json());
        footer.put(SPARK_VERSION_KEY, sparkVersion);
        return new WriteContext(parquetSchema, footer);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    @Override
    public void write(Row row) {
        out.startMessage();
        StructField[] fields = schema.fields();
        for (int i = 0; i < fields.length; i++) {
            if (row.isNullAt(i)) {
                if (!fields[i].nullable()) {
                    throw new IllegalArgumentException("column " + fields[i].name() + " is not nullable but is null");
                }
                continue;
            }
            out.startField(fields[i].name(), i);
            value(fields[i].name(), fields[i].dataType(), row.get(i));
            out.endField(fields[i].name(), i);
        }
        out.endMessage();
    }

    private void value(String name, DataType type, Object v) {
        if (type instanceof ArrayType array) {
            list(name, array, v);
        } else if (v instanceof Integer x) {
            out.addInteger(x);
        } else if (v instanceof Long x) {
            out.addLong(x);
        } else if (v instanceof Float x) {
            out.addFloat(x);
        } else if (v instanceof Double x) {
            out.addDouble(x);
        } else if (v instanceof Boolean x) {
            out.addBoolean(x);
        } else if (v instanceof String x) {
            out.addBinary(Binary.fromString(x));
        } else {
            throw new IllegalArgumentException("column " + name + ": a " + v.getClass().getName() + " for type "
                    + type.simpleString());
        }
    }

    private void list(String name, ArrayType type, Object v) {
        List<?> elements = v instanceof Object[] a ? Arrays.asList(a) : v instanceof List<?> l ? l : null;
        if (elements == null) {
            throw new IllegalArgumentException("column " + name + ": a " + v.getClass().getName() + " for an array");
        }
        out.startGroup();
        if (!elements.isEmpty()) {
            out.startField("list", 0);
            for (Object e : elements) {
                out.startGroup();
                if (e != null) {
                    out.startField("element", 0);
                    value(name, type.elementType(), e);
                    out.endField("element", 0);
                } else if (!type.containsNull()) {
                    throw new IllegalArgumentException("column " + name + ": a null element in an array without nulls");
                }
                out.endGroup();
            }
            out.endField("list", 0);
        }
        out.endGroup();
    }
}
