package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Sums G = x^T x per tap over every token: one float32 matrix product per sequence ([in, T] x
 * [T, in]), added into a float64 sum. A sequence's product does not depend on which other sequences
 * share its batch or shard, so shards merge to the same G up to the order of double additions.
 *
 * <p>On a GPU the sums stay on the device until {@link #toHost}. On a CPU they are Java arrays from
 * the start, each product added in from a view of its storage: widening in libtorch maps a fresh
 * float64 array per product (the in-place mixed add converts through one too), and on a machine
 * with slow page faults that costs more than the product itself (docs/PERFORMANCE.md); the sums
 * would be copied to the heap at the end anyway. Both add the exactly widened product into the
 * same double sum, so they give the same bits.
 */
final class GramAccumulator extends DeviceSums {
    /** Floats of a product copied out of its storage at a time, for a loop the JIT vectorises. */
    private static final int CHUNK = 1 << 16;
    private final boolean onHost;
    private final Map<String, double[]> hostSums = new LinkedHashMap<>();
    private float[] chunk;

    GramAccumulator(NDManager manager, Set<String> wanted) {
        this(manager, wanted, !manager.getDevice().isGpu());
    }

    /** {@code onHost}: the sums as Java arrays (the CPU's way), else on the device (a GPU's; tests on CPU). */
    GramAccumulator(NDManager manager, Set<String> wanted, boolean onHost) {
        super(manager, wanted);
        this.onHost = onHost;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        NDArray x32 = DeviceArrays.cast(x, DataType.FLOAT32);
        long features = x32.getShape().get(2);
        for (long b = 0; b < x32.getShape().get(0); b++) {
            NDArray xb = x32.get(b);
            NDArray product = xb.transpose().matMul(xb);
            if (onHost) {
                addInto(hostSums.computeIfAbsent(tapKey, k -> new double[Math.multiplyExact((int) features, (int) features)]),
                        product);
            } else {
                NDArray sum = sumOf(tapKey, new Shape(features, features), DataType.FLOAT64);
                sum.addi(DeviceArrays.cast(product, DataType.FLOAT64));
            }
        }
    }

    /** sum += product, entry by entry in double; the product (a CPU array) is read in place. */
    private void addInto(double[] sum, NDArray product) {
        // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage
        FloatBuffer floats = product.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        if (chunk == null) {
            chunk = new float[CHUNK];
        }
        for (int off = 0; off < sum.length; off += CHUNK) {
            int n = Math.min(CHUNK, sum.length - off);
            floats.get(off, chunk, 0, n);
            for (int i = 0; i < n; i++) {
                sum[off + i] += chunk[i];
            }
        }
    }

    /** The sums as host arrays, row-major, in the order the taps were first seen. */
    Map<String, double[]> toHost() {
        return onHost ? hostSums : toHost(NDArray::toDoubleArray);
    }
}
