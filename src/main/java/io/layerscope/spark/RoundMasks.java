package io.layerscope.spark;

import io.layerscope.model.LayerKind;
import io.layerscope.prune.LayerMask;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Wanda masks this JVM's layer tasks made in sequential mode's latest rounds, by round id and
 * layer kind, so that the round's pruned pass on the same JVM takes them instead of making them again
 * (in local mode, every mask of the block). They are the same function of the same inputs, so the
 * same bits; a mask not found here (another executor made it, or it was dropped) is made as before.
 * Only the {@value #ROUNDS} latest rounds are kept: a few MB each.
 */
final class RoundMasks {
    static final int ROUNDS = 2;
    private static final LinkedHashMap<String, Map<LayerKind, LayerMask>> BY_ROUND = new LinkedHashMap<>();

    private RoundMasks() {
    }

    static synchronized void put(String round, LayerKind kind, LayerMask mask) {
        BY_ROUND.computeIfAbsent(round, r -> new EnumMap<>(LayerKind.class)).put(kind, mask);
        Iterator<String> oldest = BY_ROUND.keySet().iterator();
        while (BY_ROUND.size() > ROUNDS) {
            oldest.next();
            oldest.remove();
        }
    }

    /** The mask, or null when this JVM did not make it for that round (or has dropped it). */
    static synchronized LayerMask get(String round, LayerKind kind) {
        Map<LayerKind, LayerMask> masks = BY_ROUND.get(round);
        return masks == null ? null : masks.get(kind);
    }
}
