package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.stats.GramProducts;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link GramProducts} on a libtorch device: G is copied there once per layer, and each block of
 * rows costs one float64 matrix product. Thread-safe: the statistics' row chunks call it from
 * several threads, each block in a sub-manager of its own.
 */
public final class DeviceGramProducts implements GramProducts, AutoCloseable {
    private final NDManager manager;
    private final NDArray g;
    private final double[] diagonal;

    private DeviceGramProducts(NDManager manager, NDArray g, double[] diagonal) {
        this.manager = manager;
        this.g = g;
        this.diagonal = diagonal;
    }

    /** G (row-major, in x in) on {@code device}. */
    public static DeviceGramProducts on(Device device, double[] gram) {
        GramProducts plain = GramProducts.of(gram);
        int in = plain.features();
        double[] diagonal = new double[in];
        for (int j = 0; j < in; j++) {
            diagonal[j] = plain.diagonal(j);
        }
        NDManager manager = NativeLibrary.engine().newBaseManager(device);
        try {
            ByteBuffer bytes = ByteBuffer.allocateDirect(gram.length * Double.BYTES).order(ByteOrder.nativeOrder());
            bytes.asDoubleBuffer().put(gram);
            NDArray g = DeviceArrays.wrap(manager, bytes, new Shape(in, in), DataType.FLOAT64);
            return new DeviceGramProducts(manager, g, diagonal);
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
            return v.matMul(g).mul(v).sum(new int[] {1}).toDoubleArray();
        }
    }

    private static final ThreadLocal<ByteBuffer> STAGING =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()));

    @Override
    public void close() {
        manager.close();
    }
}
