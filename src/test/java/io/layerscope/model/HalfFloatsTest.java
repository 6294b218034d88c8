package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.ReferencePython;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HalfFloats} against CPython: f16 through {@code struct}'s {@code 'e'} format (its own
 * binary16 code), bf16 widening as the float32 of the shifted bits, and float32 to bf16 rounding
 * against nearest-neighbour search in exact rational arithmetic ({@code fractions.Fraction}).
 */
class HalfFloatsTest {
    /** Each decoded value as a hex float (exact), or Infinity, -Infinity, NaN: Java parses all of them. */
    private static final String DECODE_ALL = String.join("\n",
            "import struct, sys",
            "def text(x):",
            "    return 'NaN' if x != x else ('-' if x < 0 else '') + 'Infinity' if abs(x) == float('inf') else x.hex()",
            "fmt = sys.argv[1]",
            "for h in range(65536):",
            "    if fmt == 'f16':",
            "        x = struct.unpack('<e', struct.pack('<H', h))[0]",
            "    else:",
            "        x = struct.unpack('<f', struct.pack('<I', h << 16))[0]",
            "    print(text(x))");

    @Test
    void everyF16PatternDecodesAsCPythonsStructDoes() {
        assertEveryPatternDecodes("f16", bits -> HalfFloats.f16ToFloat((short) bits));
    }

    @Test
    void everyBf16PatternDecodesAsTheFloat32OfItsShiftedBits() {
        assertEveryPatternDecodes("bf16", bits -> HalfFloats.bf16ToFloat((short) bits));
    }

    /**
     * CPython's struct drops NaN payloads (any NaN half reads as its one NaN); the widening keeps
     * them, moved up 13 bits with the sign, as torch's {@code .float()} does.
     */
    @Test
    void f16NaNsKeepTheirSignAndPayload() {
        assertEquals(0x7fc00000, Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x7e00)));
        assertEquals(0xff802000, Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0xfc01)));
        assertEquals(0x7fffe000, Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x7fff)));
    }

    /**
     * float32 to f16 against CPython's {@code struct.pack('<e', x)}, which rounds to nearest even
     * as IEEE does, except that it raises OverflowError where IEEE rounds to infinity (|x| >= 65520,
     * the midpoint between 65504 and 2^16): the script takes that as infinity, which is what
     * {@code floatToF16} gives there (and what torch's {@code .half()} gives).
     */
    @Test
    void floatToF16RoundsAsCPythonsStructPack() {
        List<Float> inputs = new ArrayList<>();
        float one = 1f;
        float[] tricky = {
            0f, -0f, one, -one, 0.1f, -2.5f, 1e-3f, 3.14159265f,
            one + 0x1p-11f,                  // halfway between 1 and its f16 successor: ties to 1 (even)
            one + 3 * 0x1p-11f,              // halfway above an odd mantissa: rounds up to 1 + 2^-9
            one + 0x1p-11f + 0x1p-23f,       // just above halfway: up
            one + 0x1p-11f - 0x1p-24f,       // just below halfway: down
            2049f, 2051f, 4097f,             // integers halfway between f16 neighbours
            0x1p-14f,                        // smallest normal f16
            0x1p-14f - 0x1p-25f,             // halfway between the largest subnormal and 2^-14: up to 2^-14 (even)
            0x1p-24f,                        // smallest subnormal
            0x1p-25f,                        // half of it: ties to 0
            0x1p-25f + 0x1p-40f,             // just above: the smallest subnormal
            3 * 0x1p-25f,                    // 1.5 units: 2 units
            5 * 0x1p-25f,                    // 2.5 units: 2 units
            -3 * 0x1p-25f,
            0x1p-26f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,   // below half a unit: zero, sign kept
            65504f, -65504f,                 // largest f16
            65519f, 65519.996f,              // below the midpoint to 2^16: 65504
            65520f, -65520f,                 // the midpoint: infinity (OverflowError in CPython)
            65536f, 1e10f, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        };
        for (float f : tricky) {
            inputs.add(f);
        }
        SplittableRandom random = new SplittableRandom(16);
        for (int k = 0; k < 3000; k++) {
            // exponents around f16's range (2^-30 .. 2^17) with every mantissa, and any non-NaN float
            int exponent = 97 + random.nextInt(48);
            inputs.add(Float.intBitsToFloat(random.nextInt() & 0x807fffff | exponent << 23));
            float any = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(any)) {
                inputs.add(any);
            }
        }
        String script = String.join("\n",
                "import struct, sys",
                "def f16(x):",
                "    try:",
                "        return struct.unpack('<H', struct.pack('<e', x))[0]",
                "    except OverflowError:",   // |x| rounds past 65504: IEEE gives infinity
                "        return 0xfc00 if x < 0 else 0x7c00",
                "print(f16(float('nan')), f16(-float('nan')))",
                "print(*[f16(float(t)) for t in sys.stdin.read().split()])");
        String[] lines = ReferencePython.runWithInput(script, numbers(inputs)).strip().split("\n");
        long[] nans = parse(lines[0]);
        assertEquals(nans[0], HalfFloats.floatToF16(Float.NaN) & 0xffff, "NaN");
        assertEquals(nans[1], HalfFloats.floatToF16(Float.intBitsToFloat(0xffc00000)) & 0xffff, "-NaN");
        long[] expected = parse(lines[1]);
        assertEquals(inputs.size(), expected.length);
        for (int k = 0; k < expected.length; k++) {
            float f = inputs.get(k);
            assertEquals(Long.toHexString(expected[k]), Integer.toHexString(HalfFloats.floatToF16(f) & 0xffff),
                    "float " + f + " (" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
        }
        // a few by hand, so the script's reading is checked too
        assertEquals(0x3c00, HalfFloats.floatToF16(one + 0x1p-11f));
        assertEquals(0x0400, HalfFloats.floatToF16(0x1p-14f - 0x1p-25f));
        assertEquals((short) 0xfc00, HalfFloats.floatToF16(-65520f));
        assertEquals((short) 0x8000, HalfFloats.floatToF16(-0x1p-26f));
    }

    /**
     * float32 to bf16 against a reference that knows nothing of bits: every non-negative bf16 value
     * as an exact fraction (with 2^128 as infinity's place, the next step of the largest exponent),
     * the two neighbours of |x| found by bisection, the nearer taken, a tie going to the even pattern.
     */
    @Test
    void floatToBf16RoundsToTheNearestBf16TiesToEven() {
        List<Float> inputs = new ArrayList<>();
        int[] trickyBits = {
            0x00000000, 0x80000000, 0x3f800000, 0xbf800000,
            0x3f808000,                      // halfway, even bf16 below (0x3f80): stays
            0x3f818000,                      // halfway, odd below (0x3f81): up to 0x3f82
            0x3f808001, 0x3f807fff,          // just above, just below halfway
            0xc0498000, 0xc04a8000,
            0x00000001, 0x00008000, 0x00018000, 0x00007fff, 0x0000c000, 0x007fffff, 0x00800000, 0x807f8000,
            0x7f7f0000,                      // largest bf16
            0x7f7f7fff,                      // just below the midpoint to 2^128: stays
            0x7f7f8000,                      // the midpoint (odd mantissa): infinity
            0x7f7fffff, 0xff7fffff,          // largest float32: infinity
            0x7f800000, 0xff800000,
        };
        for (int b : trickyBits) {
            inputs.add(Float.intBitsToFloat(b));
        }
        SplittableRandom random = new SplittableRandom(17);
        for (int k = 0; k < 3000; k++) {
            float any = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(any)) {
                inputs.add(any);
            }
            // low halves near the midpoint 0x8000, where the rounding turns
            int near = random.nextInt() & 0xffff0000 | (0x8000 + random.nextInt(5) - 2);
            if (!Float.isNaN(Float.intBitsToFloat(near))) {
                inputs.add(Float.intBitsToFloat(near));
            }
        }
        String script = String.join("\n",
                "import math, sys",
                "from bisect import bisect_right",
                "from fractions import Fraction",
                "def value(p):",   // exact value of the non-negative bf16 pattern p; 0x7f80 is 2**128
                "    e, m = p >> 7, p & 0x7f",
                "    return Fraction(m, 2 ** 133) if e == 0 else Fraction(128 + m) * Fraction(2) ** (e - 134)",
                "values = [value(p) for p in range(0x7f81)]",
                "out = []",
                "for t in sys.stdin.read().split():",
                "    x = float(t)",
                "    sign = 0x8000 if math.copysign(1.0, x) < 0 else 0",
                "    if math.isinf(x):",
                "        out.append(sign | 0x7f80)",
                "        continue",
                "    a = Fraction(abs(x))",
                "    lo = bisect_right(values, a) - 1",
                "    if values[lo] == a:",
                "        p = lo",
                "    else:",
                "        below, above = a - values[lo], values[lo + 1] - a",
                "        p = lo if below < above or (below == above and lo % 2 == 0) else lo + 1",
                "    out.append(sign | p)",
                "print(*out)");
        long[] expected = parse(ReferencePython.runWithInput(script, numbers(inputs)).strip());
        assertEquals(inputs.size(), expected.length);
        for (int k = 0; k < expected.length; k++) {
            float f = inputs.get(k);
            assertEquals(Long.toHexString(expected[k]), Integer.toHexString(HalfFloats.floatToBf16(f) & 0xffff),
                    "float " + f + " (" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
        }
    }

    /** A NaN stays a NaN of the same sign (the exact-arithmetic reference has no NaN to offer). */
    @Test
    void floatToBf16KeepsNaNsAndTheirSign() {
        for (int bits : new int[] {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0x7f80ffff}) {
            short h = HalfFloats.floatToBf16(Float.intBitsToFloat(bits));
            assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(h)), Integer.toHexString(bits));
            assertEquals(bits >>> 31, (h & 0xffff) >>> 15, Integer.toHexString(bits));
        }
    }

    private static void assertEveryPatternDecodes(String format, java.util.function.IntFunction<Float> decode) {
        String[] expected = ReferencePython.run(DECODE_ALL, format).strip().split("\n");
        assertEquals(65536, expected.length);
        int nans = 0;
        for (int h = 0; h < 65536; h++) {
            double want = Double.parseDouble(expected[h]);
            float got = decode.apply(h);
            String at = format + " " + Integer.toHexString(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(got), at + ": " + got);
                nans++;
            } else {
                // the double of a float is exact, and comparing bits tells -0 from 0
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), at + ": " + got);
            }
        }
        // 2 x (2^10 - 1) f16 NaNs, 2 x (2^7 - 1) bf16 NaNs: CPython found exactly those
        assertEquals(format.equals("f16") ? 2046 : 254, nans, format);
    }

    private static String numbers(List<Float> values) {
        float[] a = new float[values.size()];
        for (int k = 0; k < a.length; k++) {
            a[k] = values.get(k);
        }
        return ReferencePython.numbers(a);
    }

    private static long[] parse(String line) {
        return java.util.Arrays.stream(line.strip().split("\\s+")).mapToLong(Long::parseLong).toArray();
    }
}
