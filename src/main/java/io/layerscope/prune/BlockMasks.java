package io.layerscope.prune;

import io.layerscope.model.LayerKind;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.Map;

/** The masks of one decoder block's seven Linears, from which an executor builds the pruned block. */
public record BlockMasks(int block, Map<LayerKind, LayerMask> masks) implements Serializable {
    private static final long serialVersionUID = 1L;

    public BlockMasks {
        masks = new EnumMap<>(masks);
    }

    public LayerMask mask(LayerKind kind) {
        LayerMask m = masks.get(kind);
        if (m == null) {
            throw new IllegalArgumentException("block " + block + " has no mask for " + kind.shortName());
        }
        return m;
    }
}
