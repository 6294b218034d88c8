package io.layerscope.spark;

import io.layerscope.llama.ComputeDtype;
import java.io.Serializable;
import java.util.List;

/**
 * What an executor needs to run the calibration forward: the model directory (visible to every
 * executor: a shared file system, or the same HF cache path on each node), the compute dtype, how
 * far the forward goes, which taps to keep and whether it feeds the depth statistics.
 */
public record ModelSpec(String modelDir, ComputeDtype dtype, int lastBlock, List<String> tapKeys, int batchSize,
                        boolean depth)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** With the depth statistics. */
    public ModelSpec(String modelDir, ComputeDtype dtype, int lastBlock, List<String> tapKeys, int batchSize) {
        this(modelDir, dtype, lastBlock, tapKeys, batchSize, true);
    }
}
