package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.Set;

/**
 * Sums G = x^T x per tap over every token, on the device: one float32 matrix product per sequence
 * ([in, T] x [T, in]), added into a float64 sum. A sequence's product does not depend on which
 * other sequences share its batch or shard, so shards merge to the same G up to the order of double
 * additions. Sums stay on the device until {@link #toHost}.
 */
final class GramAccumulator extends DeviceSums {
    GramAccumulator(NDManager manager, Set<String> wanted) {
        super(manager, wanted);
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        NDArray x32 = DeviceArrays.cast(x, DataType.FLOAT32);
        long features = x32.getShape().get(2);
        NDArray sum = sumOf(tapKey, new Shape(features, features), DataType.FLOAT64);
        for (long b = 0; b < x32.getShape().get(0); b++) {
            NDArray xb = x32.get(b);
            sum.addi(DeviceArrays.cast(xb.transpose().matMul(xb), DataType.FLOAT64));
        }
    }

    /** The sums as host arrays, row-major, in the order the taps were first seen. */
    Map<String, double[]> toHost() {
        return toHost(NDArray::toDoubleArray);
    }
}
