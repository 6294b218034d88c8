package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.model.PrunableLayer;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The layers a sweep analyses: all, or those whose full name matches {@code --layers REGEX} (find, not full match). */
public final class LayerSelection {
    private LayerSelection() {
    }

    public static List<PrunableLayer> select(List<PrunableLayer> all, String regex) {
        if (regex == null || regex.isEmpty()) {
            return all;
        }
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new LayerscopeException("--layers \"" + regex + "\" is not a valid regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
        List<PrunableLayer> chosen = all.stream().filter(l -> p.matcher(l.name()).find()).toList();
        if (chosen.isEmpty()) {
            throw new LayerscopeException("--layers \"" + regex + "\" matches none of the " + all.size()
                    + " prunable layers (names look like " + all.get(0).name() + "; run list-layers to see them)");
        }
        return chosen;
    }

    /** Layers named in full by {@link #describe}; the rest are counted. */
    static final int NAMED = 8;

    /** The line saying what {@code --layers regex} chose: how many of {@code total}, and which. */
    public static String describe(String regex, List<PrunableLayer> chosen, int total) {
        List<String> names = chosen.stream().limit(NAMED).map(PrunableLayer::name).toList();
        return "layers: --layers \"" + regex + "\" matches " + chosen.size() + " of " + total + ": " + String.join(", ", names)
                + (chosen.size() > NAMED ? " and " + (chosen.size() - NAMED) + " more" : "");
    }

    /** The last decoder block the forward pass must run to feed these layers (lm_head needs all). */
    public static int lastBlockNeeded(List<PrunableLayer> layers, int numBlocks) {
        int last = -1;
        for (PrunableLayer l : layers) {
            last = Math.max(last, l.block() < 0 ? numBlocks - 1 : l.block());
        }
        return last;
    }
}
