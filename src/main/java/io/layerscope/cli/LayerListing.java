package io.layerscope.cli;

import io.layerscope.model.LayerKind;
import io.layerscope.model.ModuleTree;
import io.layerscope.model.PrunableLayer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The text of the two listings the Python tools printed: the module types of a model
 * ({@code layer-types}) and its prunable Linear layers grouped by kind with example commands
 * ({@code list-layers}). Pure functions of their arguments, so they are tested without a terminal.
 */
public final class LayerListing {
    /** How many names each group of {@code list-layers} shows before "... and N more". */
    public static final int SHOWN_PER_GROUP = 5;

    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9._/@:=+,-]+");

    private LayerListing() {
    }

    /** Every module class of the model with its count and first module path, in order of first appearance. */
    public static String layerTypes(String model, ModuleTree tree) {
        List<ModuleTree.TypeCount> types = tree.typeCounts();
        int typeWidth = "Type".length();
        int countWidth = "Count".length();
        for (ModuleTree.TypeCount t : types) {
            typeWidth = Math.max(typeWidth, t.type().length());
            countWidth = Math.max(countWidth, String.valueOf(t.count()).length());
        }
        String row = "%-" + typeWidth + "s  %" + countWidth + "s  %s%n";
        StringBuilder out = new StringBuilder();
        out.append("Module types of ").append(model).append(" (LlamaForCausalLM, as named_modules() lists them):")
                .append(System.lineSeparator()).append(System.lineSeparator());
        out.append(String.format(row, "Type", "Count", "Example"));
        for (ModuleTree.TypeCount t : types) {
            out.append(String.format(row, t.type(), t.count(), t.example().isEmpty() ? "(the model itself)" : t.example()));
        }
        out.append(System.lineSeparator()).append(types.size()).append(" module types, ")
                .append(tree.modules().size()).append(" modules.").append(System.lineSeparator());
        return out.toString();
    }

    /**
     * The prunable layers grouped under the Python tool's headings, the first {@value #SHOWN_PER_GROUP}
     * of each group, then single-layer commands for the layers at positions 0, n/4 and n/2.
     *
     * @param model       the {@code --model} value, repeated in the example commands
     * @param extraArgs   further options the example commands need (e.g. a non-default --cache-dir)
     */
    public static String prunableLayers(String model, List<String> extraArgs, List<PrunableLayer> layers) {
        Map<LayerKind, List<PrunableLayer>> groups = new LinkedHashMap<>();
        for (LayerKind k : LayerKind.values()) {
            groups.put(k, new ArrayList<>());
        }
        layers.forEach(l -> groups.get(l.kind()).add(l));
        String nl = System.lineSeparator();
        StringBuilder out = new StringBuilder();
        out.append("Prunable Linear layers of ").append(model).append(": ").append(layers.size()).append(nl).append(nl);
        for (Map.Entry<LayerKind, List<PrunableLayer>> g : groups.entrySet()) {
            List<PrunableLayer> members = g.getValue();
            if (members.isEmpty()) {
                continue;
            }
            out.append(g.getKey().heading()).append(" (").append(members.size()).append(members.size() == 1 ? " layer):" : " layers):").append(nl);
            for (PrunableLayer l : members.subList(0, Math.min(SHOWN_PER_GROUP, members.size()))) {
                out.append("  ").append(l.name()).append(nl);
            }
            if (members.size() > SHOWN_PER_GROUP) {
                out.append("  ... and ").append(members.size() - SHOWN_PER_GROUP).append(" more").append(nl);
            }
            out.append(nl);
        }
        if (!layers.isEmpty()) {
            out.append("Example commands for the single-layer job:").append(nl);
            StringBuilder tail = new StringBuilder();
            extraArgs.forEach(a -> tail.append(' ').append(shellWord(a)));
            int n = layers.size();
            for (int position : new int[] {0, n / 4, n / 2}) {
                out.append("  ./submit.sh layer --model ").append(shellWord(model)).append(" --layer ")
                        .append(layers.get(position).name()).append(tail).append(nl);
            }
        }
        return out.toString();
    }

    /** {@code s} as one word for a POSIX shell: unchanged when safe, else single-quoted. */
    static String shellWord(String s) {
        return SHELL_SAFE.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
