package io.layerscope.prune;

import java.io.Serializable;
import java.nio.FloatBuffer;

/**
 * Which entries of one layer's weight [out, in] a mask prunes, as packed bits (row-major, bit set =
 * pruned): an eighth of a byte mask, so a block's masks travel to the executors and the checkpoint
 * writer cheaply. Immutable once built.
 */
public final class LayerMask implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int out;
    private final int in;
    private final long[] bits;
    private final long pruned;

    private LayerMask(int out, int in, long[] bits) {
        this.out = out;
        this.in = in;
        this.bits = bits;
        long n = 0;
        for (long w : bits) {
            n += Long.bitCount(w);
        }
        this.pruned = n;
    }

    /** Collects a mask row by row: {@link #row} for rows 0..out-1 in any order, then {@link #build}. */
    public static final class Builder {
        private final int out;
        private final int in;
        private final long[] bits;

        public Builder(int out, int in) {
            if (out <= 0 || in <= 0) {
                throw new IllegalArgumentException("mask shape " + out + " x " + in);
            }
            this.out = out;
            this.in = in;
            this.bits = new long[(int) (((long) out * in + 63) >>> 6)];
        }

        /** Row {@code i} from a 0/1 byte mask of length at least in. Rows may be set from several threads if disjoint in words. */
        public Builder row(int i, byte[] pruned) {
            long k = (long) i * in;
            int j = 0;
            // a mask's bits are as unpredictable as coin flips: a branch per entry would be
            // mispredicted half the time, so each bit is computed, and whole words built in a register
            for (; j < in && (k & 63) != 0; j++, k++) {
                bits[(int) (k >>> 6)] |= bit(pruned[j]) << k;
            }
            for (; j + 64 <= in; j += 64, k += 64) {
                long word = 0;
                for (int t = 0; t < 64; t++) {
                    word |= bit(pruned[j + t]) << t;
                }
                bits[(int) (k >>> 6)] |= word;
            }
            for (; j < in; j++, k++) {
                bits[(int) (k >>> 6)] |= bit(pruned[j]) << k;
            }
            return this;
        }

        /** 1 for any non-zero byte, else 0, without a branch: b or -b is negative unless b is 0. */
        private static long bit(byte b) {
            return (b | -b) >>> 31;
        }

        public LayerMask build() {
            return new LayerMask(out, in, bits);
        }
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }

    public boolean pruned(int i, int j) {
        long k = (long) i * in + j;
        return (bits[(int) (k >>> 6)] >>> k & 1) != 0;
    }

    /** Entries pruned. */
    public long prunedCount() {
        return pruned;
    }

    /** The share of entries pruned. */
    public double sparsity() {
        return (double) pruned / ((long) out * in);
    }

    /** Puts +0 at {@code offset + k} of {@code values} for every pruned entry k (row-major index). */
    public void zeroPruned(FloatBuffer values, int offset) {
        for (int word = 0; word < bits.length; word++) {
            long w = bits[word];
            while (w != 0) {
                values.put(offset + (word << 6) + Long.numberOfTrailingZeros(w), 0f);
                w &= w - 1;
            }
        }
    }

    /** Rows {@code first..first+rows-1} as bytes, 1 where pruned, row-major from {@code out[0]}. */
    public void prunedRows(int first, int rows, byte[] out) {
        long from = (long) first * in;
        int n = Math.multiplyExact(rows, in);
        for (int t = 0; t < n; t++) {
            long k = from + t;
            out[t] = (byte) (bits[(int) (k >>> 6)] >>> k & 1);
        }
    }

    /** Row {@code i} as 1.0 where kept and 0.0 where pruned, into {@code keep} from {@code offset}. */
    public void keepRow(int i, float[] keep, int offset) {
        long base = (long) i * in;
        for (int j = 0; j < in; j++) {
            long k = base + j;
            keep[offset + j] = (bits[(int) (k >>> 6)] >>> k & 1) != 0 ? 0f : 1f;
        }
    }

    /** The share of entries where this mask and {@code other} (same shape) decide the same. */
    public double agreement(LayerMask other) {
        if (other.out != out || other.in != in) {
            throw new IllegalArgumentException("masks of " + out + "x" + in + " and " + other.out + "x" + other.in);
        }
        long total = (long) out * in;
        long differ = 0;
        int full = (int) (total >>> 6);
        for (int w = 0; w < full; w++) {
            differ += Long.bitCount(bits[w] ^ other.bits[w]);
        }
        int rest = (int) (total & 63);
        if (rest > 0) {
            differ += Long.bitCount((bits[full] ^ other.bits[full]) & ((1L << rest) - 1));
        }
        return (double) (total - differ) / total;
    }
}
