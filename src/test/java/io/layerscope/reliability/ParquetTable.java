package io.layerscope.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Reads a Parquet table directory as Spark wrote it (part files, arrays as three-level LIST groups)
 * with parquet-hadoop alone: rows as column name to value (Integer, Long, Double, Float, String,
 * List, or null). Independent of Spark, so results written by a cluster are read without one.
 */
final class ParquetTable {
    private ParquetTable() {
    }

    static List<Map<String, Object>> read(Path tableDir) throws IOException {
        List<Path> parts;
        try (Stream<Path> s = Files.list(tableDir)) {
            parts = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Path part : parts) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(part.toUri())).withConf(new Configuration()).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    rows.add(row(g));
                }
            }
        }
        return rows;
    }

    private static Map<String, Object> row(Group g) {
        Map<String, Object> row = new LinkedHashMap<>();
        GroupType type = g.getType();
        for (int i = 0; i < type.getFieldCount(); i++) {
            Type f = type.getType(i);
            row.put(f.getName(), g.getFieldRepetitionCount(i) == 0 ? null : value(g, i, 0, f));
        }
        return row;
    }

    private static Object value(Group g, int field, int index, Type f) {
        if (!f.isPrimitive()) {
            // LIST: group { repeated group list { element } }
            Group list = g.getGroup(field, index);
            List<Object> out = new ArrayList<>();
            int n = list.getFieldRepetitionCount(0);
            for (int k = 0; k < n; k++) {
                Group item = list.getGroup(0, k);
                Type element = item.getType().getType(0);
                out.add(item.getFieldRepetitionCount(0) == 0 ? null : value(item, 0, 0, element));
            }
            return out;
        }
        PrimitiveType p = f.asPrimitiveType();
        return switch (p.getPrimitiveTypeName()) {
            case INT32 -> g.getInteger(field, index);
            case INT64 -> g.getLong(field, index);
            case DOUBLE -> g.getDouble(field, index);
            case FLOAT -> g.getFloat(field, index);
            case BOOLEAN -> g.getBoolean(field, index);
            case BINARY -> g.getString(field, index);
            default -> throw new IllegalArgumentException("unexpected Parquet type " + p);
        };
    }
}
