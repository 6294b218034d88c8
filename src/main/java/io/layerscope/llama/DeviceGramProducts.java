package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.stats.GramProducts;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link GramProducts} on a libtorch device: the parts of G the products read (its diagonal blocks
 * and the panels of its lower triangle, see {@link #forms}) are copied there once per layer, each
 * into an array of its own, about half of G; each block of rows costs float64 matrix products with
 * them. Thread-safe: the statistics' row chunks call it from several threads, each block in a
 * sub-manager of its own.
 */
public final class DeviceGramProducts implements GramProducts, AutoCloseable {
    /**
     * Columns of G per panel of {@link #forms}: narrower panels skip more of the upper triangle but
     * make smaller products, which a CPU's BLAS runs further from its peak (docs/PERFORMANCE.md,
     * "--gram: the output errors from G's lower triangle").
     */
    static final int PANEL = 512;

    private final NDManager manager;
    private final double[] diagonal;
    private final int panel;
    /**
     * Per panel P: G_PP and G_below,P (null for the last panel), each a contiguous copy made once per
     * layer. Copies, not views of a whole G there: half the memory, and none of it larger than the
     * largest panel, which the allocator can hand out again from layer to layer (a whole G above
     * glibc's 32 MiB mapping threshold was mapped and faulted in afresh for every layer).
     */
    private final NDArray[] diagonalBlocks;
    private final NDArray[] belowBlocks;

    private DeviceGramProducts(NDManager manager, double[] gram, double[] diagonal, int panel) {
        this.manager = manager;
        this.diagonal = diagonal;
        this.panel = panel;
        int in = diagonal.length;
        int panels = (in + panel - 1) / panel;
        diagonalBlocks = new NDArray[panels];
        belowBlocks = new NDArray[panels];
        for (int p = 0; p < panels; p++) {
            int from = p * panel;
            int to = Math.min(in, from + panel);
            diagonalBlocks[p] = DeviceArrays.doublesBlock(manager, gram, in, from, to, from, to);
            belowBlocks[p] = to < in ? DeviceArrays.doublesBlock(manager, gram, in, to, in, from, to) : null;
        }
    }

    /** G (row-major, in x in) on {@code device}. */
    public static DeviceGramProducts on(Device device, double[] gram) {
        return on(device, gram, PANEL);
    }

    /** As {@link #on(Device, double[])} with panels of {@code panel} columns: for tests of the panels' edges. */
    static DeviceGramProducts on(Device device, double[] gram, int panel) {
        if (panel < 1) {
            throw new IllegalArgumentException("a panel of " + panel + " columns");
        }
        GramProducts plain = GramProducts.of(gram);
        int in = plain.features();
        double[] diagonal = new double[in];
        for (int j = 0; j < in; j++) {
            diagonal[j] = plain.diagonal(j);
        }
        NDManager manager = NativeLibrary.engine().newBaseManager(device);
        try {
            return new DeviceGramProducts(manager, gram, diagonal, panel);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public int features() {
        return diagonal.length;
    }

    @Override
    public double diagonal(int j) {
        return diagonal[j];
    }

    @Override
    public double[] quadraticForms(double[] rows, int count) {
        int in = diagonal.length;
        int values = count * in;
        // a heap buffer would be copied into a new direct buffer on every call, freed only by a GC:
        // gigabytes of native memory over a large layer's blocks; one per thread is reused instead
        ByteBuffer staging = STAGING.get();
        if (staging.capacity() < values * Double.BYTES) {
            staging = ByteBuffer.allocateDirect(values * Double.BYTES).order(ByteOrder.nativeOrder());
            STAGING.set(staging);
        }
        staging.clear();
        staging.asDoubleBuffer().put(rows, 0, values);
        staging.limit(values * Double.BYTES);
        try (NDManager block = manager.newSubManager()) {
            NDArray v = DeviceArrays.wrap(block, staging, new Shape(count, in), DataType.FLOAT64);
            return forms(v, in).toDoubleArray();
        }
    }

    /**
     * Row r of the result is v_r G v_r^T. G is symmetric, so with v split into panels P of columns,
     * v G v^T = sum over P of (v_P G_PP + 2 v_below G_below,P) . v_P, where "below" are the
     * columns after P: only the diagonal blocks and the lower triangle are multiplied, about half
     * the multiply-adds of v G. The slices of v are views (row stride {@code in}), which the products
     * read in place. The sum's order differs from v G's, so the forms differ from it in the last
     * bits of a double.
     */
    private NDArray forms(NDArray v, int in) {
        NDArray total = null;
        for (int p = 0; p < diagonalBlocks.length; p++) {
            int from = p * panel;
            int to = Math.min(in, from + panel);
            NDArray vp = v.get(new NDIndex(":, {}:{}", from, to));
            NDArray weighted = vp.matMul(diagonalBlocks[p]);
            if (belowBlocks[p] != null) {
                weighted = weighted.addi(v.get(new NDIndex(":, {}:", to)).matMul(belowBlocks[p]).muli(2));
            }
            NDArray part = weighted.muli(vp).sum(new int[] {1});
            total = total == null ? part : total.addi(part);
        }
        return total;
    }

    private static final ThreadLocal<ByteBuffer> STAGING =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()));

    @Override
    public void close() {
        manager.close();
    }
}
