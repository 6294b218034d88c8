package io.layerscope.stats;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The Gram matrix G = sum over calibration tokens of x x^T of some taps (SparseGPT's Hessian is
 * 2G / nsamples), each a full symmetric in x in matrix, row-major in double, and the number of
 * calibration sequences summed. Partial sums of disjoint shards merge by addition, so the merge
 * depends on the split only through the order of double additions.
 */
public final class GramSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<String, double[]> matrices;
    private final long nsamples;

    public GramSums(Map<String, double[]> matrices, long nsamples) {
        Map<String, double[]> copy = new LinkedHashMap<>();
        matrices.forEach((k, g) -> {
            dimension(k, g);
            copy.put(k, g);
        });
        this.matrices = Collections.unmodifiableMap(copy);
        this.nsamples = nsamples;
    }

    public static GramSums empty() {
        return new GramSums(Map.of(), 0);
    }

    public Set<String> keys() {
        return matrices.keySet();
    }

    /** G of tap {@code key}, row-major [in * in]; the array itself (callers must not change it). */
    public double[] matrix(String key) {
        double[] g = matrices.get(key);
        if (g == null) {
            throw new IllegalArgumentException("no Gram matrix for tap " + key + "; have " + matrices.keySet());
        }
        return g;
    }

    public long nsamples() {
        return nsamples;
    }

    /** The sums of both (taps of either; a tap in both adds entry by entry). Neither operand changes. */
    public GramSums merge(GramSums other) {
        return sum(other, true);
    }

    /**
     * The same sums, bit for bit, made in the operands' own arrays: for a running total whose
     * operands are used no more (a reduce over a pass's task results), which then holds two sets of
     * matrices at the peak instead of three. Both operands' matrices are changed or taken over.
     */
    public GramSums mergeTaking(GramSums other) {
        return sum(other, false);
    }

    private GramSums sum(GramSums other, boolean copy) {
        Map<String, double[]> sum = new LinkedHashMap<>();
        matrices.forEach((k, g) -> sum.put(k, copy ? g.clone() : g));
        other.matrices.forEach((k, g) -> {
            double[] mine = sum.get(k);
            if (mine == null) {
                sum.put(k, copy ? g.clone() : g);
            } else if (mine.length != g.length) {
                throw new IllegalArgumentException("tap " + k + ": Gram matrices of " + mine.length + " and " + g.length
                        + " entries");
            } else {
                for (int i = 0; i < g.length; i++) {
                    mine[i] += g[i];
                }
            }
        });
        return new GramSums(sum, nsamples + other.nsamples);
    }

    /** The side of a square matrix of {@code entries} entries. */
    static int dimension(String key, double[] g) {
        int in = (int) Math.round(Math.sqrt(g.length));
        if ((long) in * in != g.length) {
            throw new IllegalArgumentException("tap " + key + ": a Gram matrix of " + g.length + " entries is not square");
        }
        return in;
    }

    private Object writeReplace() {
        return new Stored(this);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("GramSums is stored through GramSums.Stored");
    }

    /**
     * As serialised (a Gram pass's task result: hundreds of MiB at real size): each matrix's doubles
     * as little-endian bytes, a chunk at a time. Java serialisation writes a double[] element by
     * element through a small block buffer, several times slower.
     */
    private static final class Stored implements Serializable {
        private static final long serialVersionUID = 1L;
        private static final int CHUNK = 1 << 17;
        private transient GramSums sums;

        Stored(GramSums sums) {
            this.sums = sums;
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.writeLong(sums.nsamples);
            out.writeInt(sums.matrices.size());
            byte[] bytes = new byte[CHUNK * Double.BYTES];
            DoubleBuffer chunk = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
            for (Map.Entry<String, double[]> e : sums.matrices.entrySet()) {
                double[] g = e.getValue();
                out.writeUTF(e.getKey());
                out.writeInt(g.length);
                for (int off = 0; off < g.length; off += CHUNK) {
                    int n = Math.min(CHUNK, g.length - off);
                    chunk.clear();
                    chunk.put(g, off, n);
                    out.write(bytes, 0, n * Double.BYTES);
                }
            }
        }

        private void readObject(ObjectInputStream in) throws IOException {
            long nsamples = in.readLong();
            int count = in.readInt();
            byte[] bytes = new byte[CHUNK * Double.BYTES];
            DoubleBuffer chunk = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
            Map<String, double[]> matrices = new LinkedHashMap<>();
            for (int m = 0; m < count; m++) {
                String key = in.readUTF();
                double[] g = new double[in.readInt()];
                for (int off = 0; off < g.length; off += CHUNK) {
                    int n = Math.min(CHUNK, g.length - off);
                    in.readFully(bytes, 0, n * Double.BYTES);
                    chunk.clear();
                    chunk.get(g, off, n);
                }
                matrices.put(key, g);
            }
            sums = new GramSums(matrices, nsamples);
        }

        private Object readResolve() {
            return sums;
        }
    }

    /** Bytes one in x in Gram matrix takes in double. */
    public static long bytes(int in) {
        return (long) in * in * Double.BYTES;
    }
}
