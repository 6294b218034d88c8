package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The top half of the float32 bits computed in device arithmetic against Java's own
 * {@link Float#floatToRawIntBits}, on every power of two and its neighbours, the subnormal and normal
 * limits, zero, the largest float, infinity and random bit patterns of every exponent; also with the
 * first guess at the exponents put one off, as a GPU's log2 may.
 */
class ExactFloatBitsTest {
    @Test
    void theTopHalfOfTheBitsIsJavasOwn() {
        try (NDManager manager = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            assertTopHalves(manager, new ExactFloatBits(manager));
        }
    }

    /**
     * A GPU's log2 may round up or down near a power of two, where the CPU's is exact: the first guess
     * at each exponent put one too high, one too low or left alone, value by value, still gives
     * every value's own bits.
     */
    @Test
    void anExponentGuessOneOffEitherWayIsCorrected() {
        try (NDManager manager = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            for (int shift = 0; shift < 3; shift++) {
                int phase = shift;
                assertTopHalves(manager, new ExactFloatBits(manager, x -> {
                    float[] off = new float[Math.toIntExact(x.size())];
                    for (int i = 0; i < off.length; i++) {
                        off[i] = (i + phase) % 3 - 1;
                    }
                    return x.log2().floor().add(DeviceArrays.floats(manager, off, x.getShape()));
                }));
            }
        }
    }

    private static void assertTopHalves(NDManager manager, ExactFloatBits bits) {
        float[] values = values();
        NDArray x = DeviceArrays.floats(manager, values, new Shape(values.length));
        float[] top = bits.top16(x).toFloatArray();
        for (int i = 0; i < values.length; i++) {
            int expected = Float.floatToRawIntBits(values[i]);
            String what = values[i] + " (" + Integer.toHexString(expected) + ")";
            assertEquals(expected >>> 16, (int) top[i], what);
        }
    }

    private static float[] values() {
        List<Float> v = new ArrayList<>(List.of(0f, Float.MIN_VALUE, Float.MIN_NORMAL, Math.nextDown(Float.MIN_NORMAL),
                Math.nextUp(Float.MIN_NORMAL), Float.MAX_VALUE, Float.POSITIVE_INFINITY, 6f, Math.nextDown(6f), 1f,
                Math.nextDown(1f), Math.nextUp(1f)));
        for (int e = -149; e <= 127; e++) {
            float p = Math.scalb(1f, e);
            v.add(p);
            v.add(Math.nextDown(p));
            v.add(Math.nextUp(p));
            // the last mantissa step below the next power, where the top 7 bits all turn over
            v.add(Math.nextDown(Math.scalb(1f, Math.min(e + 1, 127))));
        }
        SplittableRandom random = new SplittableRandom(3);
        for (int n = 0; n < 20000; n++) {
            // any non-negative finite float: 31 random bits below +infinity's
            v.add(Float.intBitsToFloat(random.nextInt(0x7f800000)));
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
