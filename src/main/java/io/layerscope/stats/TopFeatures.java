package io.layerscope.stats;

import java.util.Arrays;

/**
 * The indices of the largest values, largest first, equal values by lower index first.
 *
 * <pre>{@code
 * TopFeatures.largest(new float[] {1f, 3f, 2f, 3f}, 3);   // {1, 3, 2}
 * }</pre>
 */
public final class TopFeatures {
    private TopFeatures() {
    }

    /**
     * The indices of the {@code min(k, values.length)} largest of {@code values}, which must be
     * non-negative and not NaN (activation norms).
     */
    public static int[] largest(float[] values, int k) {
        long[] keys = new long[values.length];
        for (int j = 0; j < values.length; j++) {
            // descending value as an ascending key (non-negative float bits order like values), then index
            int bits = Float.floatToRawIntBits(values[j] + 0f);
            keys[j] = (long) (Integer.MAX_VALUE - bits) << 32 | j;
        }
        Arrays.sort(keys);
        int[] top = new int[Math.min(k, values.length)];
        for (int i = 0; i < top.length; i++) {
            top[i] = (int) keys[i];
        }
        return top;
    }
}
