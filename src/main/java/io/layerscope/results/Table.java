package io.layerscope.results;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A result table: its name (the {@code NAME.parquet} directory and the view {@code query}
 * registers), what one row is, and its columns in order. Schema and rows both come from the
 * columns, so they cannot drift apart.
 *
 * @param <T> what a row is made from
 */
public record Table<T>(String name, String rowDescription, List<Column<T>> columns) {
    public Table {
        columns = List.copyOf(columns);
        Set<String> names = new HashSet<>();
        for (Column<T> c : columns) {
            if (!names.add(c.name())) {
                throw new IllegalArgumentException("table " + name + ": column " + c.name() + " is defined twice");
            }
        }
    }

    public StructType schema() {
        StructField[] fields = new StructField[columns.size()];
        for (int i = 0; i < fields.length; i++) {
            Column<T> c = columns.get(i);
            fields[i] = DataTypes.createStructField(c.name(), c.type(), c.nullable());
        }
        return new StructType(fields);
    }

    public Row row(T source) {
        Object[] values = new Object[columns.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = columns.get(i).valueOf(source);
        }
        return RowFactory.create(values);
    }

    public Column<T> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("table " + this.name + " has no column " + name));
    }

    /** The columns of one section, in table order. */
    public List<Column<T>> columns(Column.Section section) {
        List<Column<T>> in = new ArrayList<>();
        columns.forEach(c -> {
            if (c.section() == section) {
                in.add(c);
            }
        });
        return in;
    }
}
