package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.LlamaModel;
import java.io.Serializable;
import java.util.List;

/**
 * What an executor needs to run the calibration forward: the model directory (visible to every
 * executor: a shared file system, or the same HF cache path on each node), the compute dtype, how
 * far the forward goes, which taps to keep, whether it feeds the depth statistics and where it
 * reduces them (--stats-device: libtorch on the device, or Java scans of host copies).
 */
public record ModelSpec(String modelDir, ComputeDtype dtype, int lastBlock, List<String> tapKeys, int batchSize,
                        boolean depth, StatsDevice statsDevice)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** With the depth statistics, reduced where --stats-device auto puts them. */
    public ModelSpec(String modelDir, ComputeDtype dtype, int lastBlock, List<String> tapKeys, int batchSize) {
        this(modelDir, dtype, lastBlock, tapKeys, batchSize, true, StatsDevice.AUTO);
    }

    /** Where a forward on {@code device} reduces the depth statistics when it feeds them (--stats-device). */
    public LlamaModel.Depth depthOn(Device device) {
        return statsDevice.onDevice(device) ? LlamaModel.Depth.DEVICE : LlamaModel.Depth.HOST;
    }

    /** Stage one's depth statistics on {@code device}: none without them, else {@link #depthOn}. */
    public LlamaModel.Depth stageOneDepth(Device device) {
        return depth ? depthOn(device) : LlamaModel.Depth.NONE;
    }
}
