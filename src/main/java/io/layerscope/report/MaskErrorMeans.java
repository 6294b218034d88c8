package io.layerscope.report;

import io.layerscope.plot.LayerSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The output error of each mask ({@code recon_err_*}, written by {@code sweep --gram}) averaged by layer
 * kind and by decoder block, for the report's {@link MaskErrorSection}. A group's means are plain means
 * over its layers that have every mask's error, so the masks of one row are compared on the same layers;
 * a layer without them (its output is zero on every calibration token) is left out.
 *
 * <pre>{@code
 * MaskErrorMeans means = MaskErrorMeans.of(summaries);   // null when the run has no errors (no --gram)
 * means.byKind().get(0).least();                          // index in masks() of the smallest mean
 * }</pre>
 *
 * @param masks   the masks the run has errors for, in the order of the {@code layers} columns
 * @param byKind  one row per layer kind, in order of first appearance (model order: q_proj ... lm_head)
 * @param byDepth one row per decoder block in ascending order, then one for the layers outside the blocks
 */
record MaskErrorMeans(List<Mask> masks, List<Group> byKind, List<Group> byDepth) {

    /** A mask: its {@code layers} column and the name the report gives it. */
    record Mask(String column, String name) {
    }

    /** The five masks in the order of their {@code layers} columns (the order that breaks ties). */
    static final List<Mask> MASKS = List.of(
            new Mask("recon_err_wanda", "Wanda"),
            new Mask("recon_err_magnitude_row", "magnitude per-row"),
            new Mask("recon_err_magnitude_layer", "magnitude per-layer"),
            new Mask("recon_err_wanda_2of4", "Wanda 2:4"),
            new Mask("recon_err_ria", "RIA"));

    /**
     * One row: the group's label, how many of its layers the means cover and how many it has, and the
     * mean error of each mask (NaN when no layer of the group has the errors).
     */
    record Group(String label, int averaged, int layers, double[] means) {

        /** Index of the smallest mean, the first of equal ones; -1 when there is none. */
        int least() {
            int least = -1;
            for (int m = 0; m < means.length; m++) {
                if (!Double.isNaN(means[m]) && (least < 0 || means[m] < means[least])) {
                    least = m;
                }
            }
            return least;
        }
    }

    /** The means of {@code layers}; null when no layer has an output error, so the report shows no section. */
    static MaskErrorMeans of(List<LayerSummary> layers) {
        List<Mask> masks = MASKS.stream().filter(m -> layers.stream().anyMatch(l -> Double.isFinite(l.value(m.column()))))
                .toList();
        if (masks.isEmpty()) {
            return null;
        }
        Map<String, List<LayerSummary>> kinds = new LinkedHashMap<>();
        Map<Integer, List<LayerSummary>> blocks = new TreeMap<>();
        List<LayerSummary> outside = new ArrayList<>();
        for (LayerSummary l : layers) {
            kinds.computeIfAbsent(l.kind(), k -> new ArrayList<>()).add(l);
            if (l.inBlock()) {
                blocks.computeIfAbsent(l.block(), b -> new ArrayList<>()).add(l);
            } else {
                outside.add(l);
            }
        }
        List<Group> byKind = new ArrayList<>();
        kinds.forEach((kind, of) -> byKind.add(group(kind, of, masks)));
        List<Group> byDepth = new ArrayList<>();
        blocks.forEach((block, of) -> byDepth.add(group(String.valueOf(block), of, masks)));
        if (!outside.isEmpty()) {
            byDepth.add(group("head", outside, masks));
        }
        return new MaskErrorMeans(masks, byKind, byDepth);
    }

    private static Group group(String label, List<LayerSummary> layers, List<Mask> masks) {
        double[] sums = new double[masks.size()];
        int averaged = 0;
        for (LayerSummary l : layers) {
            if (masks.stream().allMatch(m -> Double.isFinite(l.value(m.column())))) {
                for (int m = 0; m < sums.length; m++) {
                    sums[m] += l.value(masks.get(m).column());
                }
                averaged++;
            }
        }
        double[] means = new double[sums.length];
        for (int m = 0; m < sums.length; m++) {
            means[m] = averaged == 0 ? Double.NaN : sums[m] / averaged;
        }
        return new Group(label, averaged, layers.size(), means);
    }
}
