package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Sums G = x^T x per tap over every token: float32 matrix products per sequence, added into a
 * float64 sum. G is symmetric, so only its lower triangle is multiplied: for each panel of
 * {@link #PANEL} columns, the rows from the panel's first column down ({@code x[:, j0:]^T x[:, j0:j1]}),
 * about half the multiply-adds of {@code x^T x}; {@link #toHost} copies the lower triangle onto the
 * upper. A sequence's product does not depend on which other sequences share its batch or shard, so
 * shards merge to the same G up to the order of double additions.
 *
 * <p>On a GPU the sums stay on the device until {@link #toHost}. On a CPU they are Java arrays from
 * the start, each product added in from a view of its storage: widening in libtorch maps a fresh
 * float64 array per product (the in-place mixed add converts through one too), and on a machine
 * with slow page faults that costs more than the product itself (docs/PERFORMANCE.md); the sums
 * would be copied to the heap at the end anyway. Both add the exactly widened product into the
 * same double sum, so they give the same bits. The Java arrays are reused from earlier passes where
 * they come back ({@link GramArrays}).
 */
final class GramAccumulator extends DeviceSums {
    /** Floats of a product copied out of its storage at a time, for a loop the JIT vectorises. */
    private static final int CHUNK = 1 << 16;
    /**
     * Columns per panel: narrower panels skip more of the upper triangle but make smaller products,
     * which a CPU's BLAS runs further from its peak (docs/PERFORMANCE.md, "--gram: the Gram products
     * of the lower triangle").
     */
    static final int PANEL = 512;
    /** Side of the tiles in which {@link #mirror} copies, so that its column-wise reads stay in the cache. */
    private static final int MIRROR_TILE = 64;
    private final boolean onHost;
    private final int panel;
    private final Map<String, double[]> hostSums = new LinkedHashMap<>();
    private float[] chunk;

    GramAccumulator(NDManager manager, Set<String> wanted) {
        this(manager, wanted, !manager.getDevice().isGpu());
    }

    /** {@code onHost}: the sums as Java arrays (the CPU's way), else on the device (a GPU's; tests on CPU). */
    GramAccumulator(NDManager manager, Set<String> wanted, boolean onHost) {
        this(manager, wanted, onHost, PANEL);
    }

    /** With panels of {@code panel} columns: for tests of the panels' edges. */
    GramAccumulator(NDManager manager, Set<String> wanted, boolean onHost, int panel) {
        super(manager, wanted);
        if (panel < 1) {
            throw new IllegalArgumentException("a panel of " + panel + " columns");
        }
        this.onHost = onHost;
        this.panel = panel;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        NDArray x32 = DeviceArrays.cast(x, DataType.FLOAT32);
        int features = Math.toIntExact(x32.getShape().get(2));
        for (long b = 0; b < x32.getShape().get(0); b++) {
            NDArray xb = x32.get(b);
            for (int from = 0; from < features; from += panel) {
                int to = Math.min(features, from + panel);
                // G[from:, from:to]: the panel's columns from its diagonal block down; views, read in place
                NDArray rows = xb.get(new NDIndex(":, {}:", from));
                NDArray block = rows.transpose().matMul(xb.get(new NDIndex(":, {}:{}", from, to)));
                if (onHost) {
                    addInto(hostSums.computeIfAbsent(tapKey, k -> GramArrays.zeroed(Math.multiplyExact(features, features))),
                            features, from, to, block);
                } else {
                    NDArray sum = sumOf(tapKey, new Shape(features, features), DataType.FLOAT64);
                    sum.get(new NDIndex("{}:, {}:{}", from, from, to)).addi(DeviceArrays.cast(block, DataType.FLOAT64));
                }
            }
        }
    }

    /**
     * sum[from:, from:to] += block, entry by entry in double; the block (a CPU array, row-major,
     * {@code (features - from) x (to - from)}) is read in place, whole rows at a time.
     */
    private void addInto(double[] sum, int features, int from, int to, NDArray block) {
        // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage
        FloatBuffer floats = block.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        if (chunk == null) {
            chunk = new float[CHUNK];
        }
        int width = to - from;
        int rowsPerChunk = Math.max(1, CHUNK / width);
        if (chunk.length < rowsPerChunk * width) {
            chunk = new float[rowsPerChunk * width];
        }
        int rows = features - from;
        for (int r0 = 0; r0 < rows; r0 += rowsPerChunk) {
            int n = Math.min(rowsPerChunk, rows - r0);
            floats.get(r0 * width, chunk, 0, n * width);
            for (int r = 0; r < n; r++) {
                int at = (from + r0 + r) * features + from;
                int c0 = r * width;
                for (int c = 0; c < width; c++) {
                    sum[at + c] += chunk[c0 + c];
                }
            }
        }
    }

    /** Copies a sum's lower triangle onto its upper one, which the panels' products leave partly unset. */
    private static void mirror(double[] g) {
        int n = (int) Math.round(Math.sqrt(g.length));
        for (int i0 = 0; i0 < n; i0 += MIRROR_TILE) {
            for (int j0 = i0; j0 < n; j0 += MIRROR_TILE) {
                for (int i = i0; i < Math.min(n, i0 + MIRROR_TILE); i++) {
                    for (int j = Math.max(j0, i + 1); j < Math.min(n, j0 + MIRROR_TILE); j++) {
                        g[i * n + j] = g[j * n + i];
                    }
                }
            }
        }
    }

    /** The sums as host arrays, row-major, in the order the taps were first seen. */
    Map<String, double[]> toHost() {
        Map<String, double[]> sums = onHost ? hostSums : toHost(NDArray::toDoubleArray);
        sums.values().forEach(GramAccumulator::mirror);
        return sums;
    }
}
