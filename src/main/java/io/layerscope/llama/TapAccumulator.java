package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Sums x^2 per input feature over every token of every sequence, on the device in float32 (x is
 * cast to float32 before squaring, as Wanda's add_batch does). The sums stay on the device until
 * {@link #toHost}, which copies each once.
 */
final class TapAccumulator implements TapSink {
    private final NDManager manager;
    private final Set<String> wanted;
    private final Map<String, NDArray> sums = new LinkedHashMap<>();

    /** Sums live in {@code manager} (one forward call); only keys in {@code wanted} are kept. */
    TapAccumulator(NDManager manager, Set<String> wanted) {
        this.manager = manager;
        this.wanted = wanted;
    }

    @Override
    public boolean wants(String tapKey) {
        return wanted.contains(tapKey);
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        NDArray batchSum = DeviceArrays.cast(x, DataType.FLOAT32).square().sum(new int[] {0, 1});
        NDArray sum = sums.get(tapKey);
        if (sum == null) {
            sum = DeviceArrays.zeros(manager, new Shape(batchSum.getShape().get(0)), DataType.FLOAT32);
            sums.put(tapKey, sum);
        }
        sum.addi(batchSum);
    }

    /** The sums as host arrays, in the order the taps were first seen. */
    Map<String, float[]> toHost() {
        Map<String, float[]> out = new LinkedHashMap<>();
        sums.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
