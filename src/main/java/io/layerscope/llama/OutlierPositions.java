package io.layerscope.llama;

/**
 * For one tap kind over one batch of sequences: which of its [positions, features] entries reached
 * |x| >= 6 in at least one block, one bit each (row-major index), counted per feature at the end.
 */
final class OutlierPositions {
    private final int features;
    private final long[] bits;

    OutlierPositions(int positions, int features) {
        this.features = features;
        this.bits = new long[(int) (((long) positions * features + 63) / 64)];
    }

    int features() {
        return features;
    }

    /** Marks the entry at row-major index {@code index} (position * features + feature). */
    void set(int index) {
        bits[index >>> 6] |= 1L << index;
    }

    /** Per feature, the positions marked. */
    long[] counts() {
        long[] counts = new long[features];
        for (int w = 0; w < bits.length; w++) {
            long word = bits[w];
            while (word != 0) {
                counts[(w * 64 + Long.numberOfTrailingZeros(word)) % features]++;
                word &= word - 1;
            }
        }
        return counts;
    }
}
