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
 * columns, so they cannot drift apart. Every table ends with {@link #RUN_ID}, the same value in
 * every row of a run, so the tables of several runs can be concatenated and still told apart.
 *
 * @param <T> what a row is made from
 */
public record Table<T>(String name, String rowDescription, List<Column<T>> columns) {
    /** The last column of every table: the run's id, as run.json's {@code runId}. */
    public static final String RUN_ID = "run_id";
    public static final String RUN_ID_DESCRIPTION = "the run that wrote the row: a random UUID made once per run,"
            + " run.json's runId and the footer's layerscope.run_id";

    public Table {
        columns = List.copyOf(columns);
        Set<String> names = new HashSet<>(Set.of(RUN_ID)); // every table has it last
        for (Column<T> c : columns) {
            if (!names.add(c.name())) {
                throw new IllegalArgumentException("table " + name + ": column " + c.name() + " is defined twice");
            }
        }
    }

    /** The columns, then {@link #RUN_ID}. */
    public StructType schema() {
        StructField[] fields = new StructField[columns.size() + 1];
        for (int i = 0; i < columns.size(); i++) {
            Column<T> c = columns.get(i);
            fields[i] = DataTypes.createStructField(c.name(), c.type(), c.nullable());
        }
        fields[columns.size()] = DataTypes.createStructField(RUN_ID, DataTypes.StringType, false);
        return new StructType(fields);
    }

    /** The row of {@code source} in run {@code runId}, in {@link #schema()}'s order. */
    public Row row(T source, String runId) {
        Object[] values = new Object[columns.size() + 1];
        for (int i = 0; i < columns.size(); i++) {
            values[i] = columns.get(i).valueOf(source);
        }
        values[columns.size()] = runId;
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
