package io.layerscope.results;

import java.util.function.Function;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * One column of a result table: its name (part of the results contract), Parquet/Spark type,
 * nullability, the section of the docs it is listed in, a one-line description, how its value is
 * taken from a row's source, and, for the report's table, how it is shown.
 *
 * <pre>{@code
 * Column<LayerResult> c = Column.float64("wanda_mean", Section.DISTRIBUTION, "mean Wanda metric",
 *         r -> r.stats().wanda().summary().mean()).orNull();
 * }</pre>
 *
 * @param <T> what a row is made from (e.g. one analysed layer)
 */
public record Column<T>(String name, DataType type, boolean nullable, Section section, String description,
                        Function<? super T, Object> value, Display display) {

    /** Where a column is listed (docs) and whether the {@code layer} command prints it on its own line. */
    public enum Section {
        IDENTITY("Identity"),
        DISTRIBUTION("Distributions"),
        METRIC("Masks, outliers and features"),
        OUTPUT("Files and timing");

        private final String title;

        Section(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    /** How the report's layer table shows a numeric column: heading, number format, bar for magnitudes. */
    public record Display(String label, String format, boolean bar) {
    }

    public static <T> Column<T> string(String name, Section section, String description, Function<? super T, String> f) {
        return new Column<>(name, DataTypes.StringType, false, section, description, f::apply, null);
    }

    public static <T> Column<T> int32(String name, Section section, String description, Function<? super T, Integer> f) {
        return new Column<>(name, DataTypes.IntegerType, false, section, description, f::apply, null);
    }

    public static <T> Column<T> int64(String name, Section section, String description, Function<? super T, Long> f) {
        return new Column<>(name, DataTypes.LongType, false, section, description, f::apply, null);
    }

    public static <T> Column<T> float32(String name, Section section, String description, Function<? super T, Float> f) {
        return new Column<>(name, DataTypes.FloatType, false, section, description, f::apply, null);
    }

    public static <T> Column<T> float64(String name, Section section, String description, Function<? super T, Double> f) {
        return new Column<>(name, DataTypes.DoubleType, false, section, description, f::apply, null);
    }

    public static <T> Column<T> float64s(String name, Section section, String description, Function<? super T, double[]> f) {
        return new Column<>(name, DataTypes.createArrayType(DataTypes.DoubleType, false), false, section, description,
                t -> {
                    double[] a = f.apply(t);
                    return a == null ? null : boxed(a);   // null only in a column made orNull()
                }, null);
    }

    public static <T> Column<T> int64s(String name, Section section, String description, Function<? super T, long[]> f) {
        return new Column<>(name, DataTypes.createArrayType(DataTypes.LongType, false), false, section, description,
                t -> boxed(f.apply(t)), null);
    }

    public static <T> Column<T> int32s(String name, Section section, String description, Function<? super T, int[]> f) {
        return new Column<>(name, DataTypes.createArrayType(DataTypes.IntegerType, false), false, section, description,
                t -> boxed(f.apply(t)), null);
    }

    /** The same column, allowed to hold null. */
    public Column<T> orNull() {
        return new Column<>(name, type, true, section, description, value, display);
    }

    /** The same column, shown in the report's layer table. */
    public Column<T> reported(String label, String format, boolean bar) {
        return new Column<>(name, type, nullable, section, description, value, new Display(label, format, bar));
    }

    /** The value for one row, as Spark's {@code Row} holds it (arrays boxed). */
    public Object valueOf(T source) {
        return value.apply(source);
    }

    private static Double[] boxed(double[] a) {
        Double[] b = new Double[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    private static Long[] boxed(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    private static Integer[] boxed(int[] a) {
        Integer[] b = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }
}
