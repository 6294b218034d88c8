package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.Set;

/**
 * Sums x^2 per input feature over every token of every sequence, on the device in float32 (x is
 * cast to float32 before squaring, as Wanda's add_batch does). The sums stay on the device until
 * {@link #toHost}, which copies each once.
 */
final class TapAccumulator extends DeviceSums {
    /** Sums live in {@code manager} (one forward call); only keys in {@code wanted} are kept. */
    TapAccumulator(NDManager manager, Set<String> wanted) {
        super(manager, wanted);
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        NDArray batchSum = DeviceArrays.cast(x, DataType.FLOAT32).square().sum(new int[] {0, 1});
        sumOf(tapKey, new Shape(batchSum.getShape().get(0)), DataType.FLOAT32).addi(batchSum);
    }

    /** The sums as host arrays, in the order the taps were first seen. */
    Map<String, float[]> toHost() {
        return toHost(NDArray::toFloatArray);
    }
}
