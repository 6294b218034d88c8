package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class TopFeaturesTest {

    @Test
    void largestFirstAndTiesByLowerIndex() {
        float[] norms = {1f, 3f, 2f, 3f, 0f, 2f};
        assertArrayEquals(new int[] {1, 3, 2, 5}, TopFeatures.largest(norms, 4));
        assertArrayEquals(new int[] {1, 3, 2, 5, 0, 4}, TopFeatures.largest(norms, 16));
    }

    @Test
    void allEqualKeepsIndexOrder() {
        assertArrayEquals(new int[] {0, 1, 2}, TopFeatures.largest(new float[] {7f, 7f, 7f, 7f, 7f}, 3));
    }

    @Test
    void zerosAndLargeValues() {
        assertArrayEquals(new int[] {2, 0, 1},
                TopFeatures.largest(new float[] {0f, -0f, Float.MAX_VALUE}, 3));
    }
}
