package io.layerscope.reliability;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-JVM side of {@link MklShimIT}: one linear product in libtorch with the forward's gate/up
 * shape (256 tokens x 512 in x 2816 out, the shape oneMKL sends to generic kernels on AMD), checked
 * against plain-Java double loops. Prints whether the shim is mapped into this process and the
 * largest difference relative to the largest product.
 */
public final class MklShimProbe {
    private MklShimProbe() {
    }

    public static void main(String[] args) throws Exception {
        int tokens = 256;
        int in = 512;
        int out = 2816;
        float[] x = values(tokens * in, 1);
        float[] w = values(out * in, 2);
        float[] y;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(tokens, in));
            NDArray wa = m.create(w, new Shape(out, in));
            y = Linear.linear(xa, wa).singletonOrThrow().toFloatArray();
        }
        double worst = 0;
        double largest = 0;
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double sum = 0;
                for (int i = 0; i < in; i++) {
                    sum += (double) x[t * in + i] * w[o * in + i];
                }
                worst = Math.max(worst, Math.abs(sum - y[t * out + o]));
                largest = Math.max(largest, Math.abs(sum));
            }
        }
        boolean mapped = Files.readString(Path.of("/proc/self/maps")).contains("libmkl_intel_cpu_true.so");
        System.out.println("mapped=" + mapped + " relative=" + worst / largest);
    }

    /** Deterministic values in [-1, 1) from a linear congruential sequence. */
    private static float[] values(int n, long seed) {
        float[] v = new float[n];
        long s = seed;
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            v[i] = (float) ((s >>> 40) / (double) (1L << 24) * 2 - 1);
        }
        return v;
    }
}
