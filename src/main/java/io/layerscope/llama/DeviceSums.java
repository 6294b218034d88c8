package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What the forward's accumulators share: per tap a running sum on the device, created at zero the
 * first time the tap is seen and kept there (in {@code manager}, one forward call) until
 * {@link #toHost} copies each once, in the order the taps were first seen.
 */
abstract class DeviceSums implements TapSink {
    private final NDManager manager;
    private final Set<String> wanted;
    private final Map<String, NDArray> sums = new LinkedHashMap<>();

    /** Sums live in {@code manager}; only keys in {@code wanted} are kept. */
    DeviceSums(NDManager manager, Set<String> wanted) {
        this.manager = manager;
        this.wanted = wanted;
    }

    @Override
    public final boolean wants(String tapKey) {
        return wanted.contains(tapKey);
    }

    /** The tap's running sum, zeros of {@code shape} and {@code type} the first time. */
    final NDArray sumOf(String tapKey, Shape shape, DataType type) {
        return sums.computeIfAbsent(tapKey, k -> DeviceArrays.zeros(manager, shape, type));
    }

    /** Every sum copied to the host by {@code copy}, in the order the taps were first seen. */
    final <T> Map<String, T> toHost(Function<NDArray, T> copy) {
        Map<String, T> out = new LinkedHashMap<>();
        sums.forEach((k, v) -> out.put(k, copy.apply(v)));
        return out;
    }
}
