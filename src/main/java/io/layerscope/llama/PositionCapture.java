package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;

/** Copies every tap of a one-sequence forward to the host as float32 [tokens * features], row-major. */
final class PositionCapture implements TapSink {
    private final Map<String, float[]> values = new LinkedHashMap<>();

    @Override
    public boolean wants(String tapKey) {
        return true;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        values.put(tapKey, DeviceArrays.cast(x, DataType.FLOAT32).toFloatArray());
    }

    Map<String, float[]> values() {
        return values;
    }
}
