package io.layerscope.prune;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What the statistics see. DENSE: every layer's inputs come from one forward of the unpruned model.
 * SEQUENTIAL: Wanda's prune_wanda, block by block; block i's inputs come from blocks 0..i-1 already
 * pruned, which is what Wanda's metric sees while it prunes.
 */
public enum PruneMode {
    DENSE, SEQUENTIAL;

    /** As typed on the command line and recorded: {@code dense} or {@code sequential}. */
    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static PruneMode parse(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
