package io.layerscope.cli;

import io.layerscope.results.Column;
import io.layerscope.results.Column.Section;
import io.layerscope.results.LayerResult;
import io.layerscope.results.LayersTable;
import io.layerscope.results.ResultTables;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;

/**
 * The {@code layer} command's printout of one layer, derived from the {@code layers} column
 * definitions: the identity columns on one line, the distributions as a table (one row per
 * quantity, one column per statistic), then every other statistic on a line of its own.
 */
final class LayerPrintout {
    private LayerPrintout() {
    }

    static void print(LayerResult r, PrintWriter out) {
        LayersTable.Source s = new LayersTable.Source(r, null);
        List<String> identity = new ArrayList<>();
        for (Column<LayersTable.Source> c : ResultTables.LAYERS.columns(Section.IDENTITY)) {
            identity.add(c.name().equals("layer") ? text(c.valueOf(s)) : c.name() + "=" + text(c.valueOf(s)));
        }
        out.println(String.join("  ", identity));
        // distribution statistics, grouped by quantity: "weight_abs_mean" is quantity weight_abs, statistic mean
        Map<String, Map<String, Object>> quantities = new LinkedHashMap<>();
        for (Column<LayersTable.Source> c : ResultTables.LAYERS.columns(Section.DISTRIBUTION)) {
            if (c.type().equals(DataTypes.DoubleType)) {
                int cut = c.name().lastIndexOf('_');
                quantities.computeIfAbsent(c.name().substring(0, cut), k -> new LinkedHashMap<>())
                        .put(c.name().substring(cut + 1), c.valueOf(s));
            }
        }
        if (!quantities.isEmpty()) {
            out.printf("%-12s", "");
            quantities.values().iterator().next().keySet().forEach(stat -> out.printf(" %12s", stat));
            out.println();
            quantities.forEach((quantity, stats) -> {
                out.printf("%-12s", quantity);
                stats.values().forEach(v -> out.printf(" %12s", text(v)));
                out.println();
            });
        }
        for (Column<LayersTable.Source> c : ResultTables.LAYERS.columns(Section.METRIC)) {
            out.printf("%-28s %s%n", c.name(), text(c.valueOf(s)));
        }
    }

    private static String text(Object v) {
        if (v instanceof Double d) {
            return String.format(Locale.ROOT, "%.6g", d);
        }
        if (v instanceof Object[] a) {
            return Arrays.toString(a);
        }
        return String.valueOf(v);
    }
}
