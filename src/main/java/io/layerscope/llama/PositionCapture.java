package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;

/** Copies every tap of a one-sequence forward to the host as float32 [tokens * features], row-major. */
final class PositionCapture implements TapSink {
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, float[]> streams = new LinkedHashMap<>();

    @Override
    public boolean wants(String tapKey) {
        return true;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        values.put(tapKey, DeviceArrays.cast(x, DataType.FLOAT32).toFloatArray());
    }

    @Override
    public void embedded(NDArray h) {
        streams.put("residual/0", host(h));
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        streams.put("residual/" + (block + 1), host(out));
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        streams.put("down_in/" + block, host(in));
        streams.put("down_out/" + block, host(out));
    }

    private static float[] host(NDArray x) {
        return DeviceArrays.cast(x, DataType.FLOAT32).toFloatArray();
    }

    Map<String, float[]> values() {
        return values;
    }

    /** The residual stream and down_proj's input and output (see {@link LlamaModel#positionStreams}). */
    Map<String, float[]> streams() {
        return streams;
    }
}
