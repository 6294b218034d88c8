package io.layerscope.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.fixtures.ReferencePython;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PythonRandomTest {
    private static final BigInteger TWO = BigInteger.TWO;

    /** Seeds of one word, two words (2**32+5), three words (20 digits) and more. */
    private static final List<BigInteger> SEEDS = List.of(
            BigInteger.ZERO, BigInteger.ONE, BigInteger.valueOf(42), TWO.pow(32).add(BigInteger.valueOf(5)),
            new BigInteger("12345678901234567890"), new BigInteger("98765432109876543210987654321"),
            BigInteger.valueOf(-7));

    /** Upper bounds b of randint(0, b): small, C4's document count, 2**31-1, and beyond 2**32 and 2**64. */
    private static final List<BigInteger> RANGES = List.of(
            BigInteger.ZERO, BigInteger.ONE, BigInteger.valueOf(99), BigInteger.valueOf(356316),
            TWO.pow(31).subtract(BigInteger.ONE), TWO.pow(32), TWO.pow(32).add(BigInteger.valueOf(12345)),
            TWO.pow(40).add(BigInteger.valueOf(3)), TWO.pow(63).subtract(BigInteger.ONE),
            TWO.pow(64).add(BigInteger.valueOf(17)), TWO.pow(100).subtract(BigInteger.valueOf(3)));

    @Test
    void knownValuesFromTheReference() {
        PythonRandom random = new PythonRandom(0);
        long[] draws = new long[5];
        for (int i = 0; i < 5; i++) {
            draws[i] = random.randint(0, 356316);
        }
        assertArrayEquals(new long[] {201979, 220500, 21225, 135746, 268055}, draws);

        random.seed(0);
        assertEquals(3626764237L, random.getrandbits(32));
        assertEquals(1654615998L, random.getrandbits(32));

        random.seed(new BigInteger("12345678901234567890"));
        for (int i = 0; i < 5; i++) {
            draws[i] = random.randint(0, 99);
        }
        assertArrayEquals(new long[] {65, 69, 82, 57, 41}, draws);
    }

    /** A copy draws what the original draws next (CPython: 201979, 220500, 21225 ...), and neither moves the other. */
    @Test
    void aCopyDrawsWhatTheOriginalDrawsNext() {
        PythonRandom random = new PythonRandom(0);
        assertEquals(201979, random.randint(0, 356316));
        PythonRandom copy = random.copy();
        assertEquals(220500, copy.randint(0, 356316));
        assertEquals(21225, copy.randint(0, 356316));
        assertEquals(220500, random.randint(0, 356316), "the original is where it was");
        PythonRandom other = new PythonRandom(7);
        other.getrandbits(32);
        PythonRandom twin = other.copy();
        for (int i = 0; i < 2000; i++) {   // past the 624-word state's refill
            assertEquals(other.getrandbits(32), twin.getrandbits(32), "draw " + i);
        }
    }

    @Test
    void randintEqualsCPythonForSeveralSeedsAndRanges() {
        StringBuilder script = new StringBuilder("import random, sys\n")
                .append("random.seed(int(sys.argv[1]))\n")
                .append("for b in [int(x) for x in sys.argv[2:]]:\n")
                .append("    for _ in range(7):\n")
                .append("        print(random.randint(0, b))\n");
        String[] bounds = RANGES.stream().map(BigInteger::toString).toArray(String[]::new);
        for (BigInteger seed : SEEDS) {
            String[] args = new String[bounds.length + 1];
            args[0] = seed.toString();
            System.arraycopy(bounds, 0, args, 1, bounds.length);
            List<BigInteger> expected = bigs(ReferencePython.run(script.toString(), args));

            PythonRandom random = new PythonRandom(seed);
            List<BigInteger> actual = new ArrayList<>();
            for (BigInteger b : RANGES) {
                for (int i = 0; i < 7; i++) {
                    actual.add(b.bitLength() < 63
                            ? BigInteger.valueOf(random.randint(0, b.longValueExact()))
                            : random.randint(BigInteger.ZERO, b));
                }
            }
            assertEquals(expected, actual, "seed " + seed);
        }
    }

    @Test
    void randintWithNonZeroLowerBoundEqualsCPython() {
        long[] expected = ReferencePython.runLongs("import random\nrandom.seed(42)\n"
                + "for a, b in [(5, 5), (-10, 10), (1000, 2000), (-2**62, 2**62), (-2**63, 2**63 - 1)]:\n"
                + "    for _ in range(5):\n"
                + "        print(random.randint(a, b))\n");
        long[][] ranges = {{5, 5}, {-10, 10}, {1000, 2000}, {-(1L << 62), 1L << 62}, {Long.MIN_VALUE, Long.MAX_VALUE}};
        PythonRandom random = new PythonRandom(42);
        long[] actual = new long[expected.length];
        int n = 0;
        for (long[] range : ranges) {
            for (int i = 0; i < 5; i++) {
                actual[n++] = random.randint(range[0], range[1]);
            }
        }
        assertArrayEquals(expected, actual);
    }

    @Test
    void getrandbitsEqualsCPythonForEveryWidth() {
        int[] widths = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 100, 128, 129};
        StringBuilder list = new StringBuilder();
        for (int k : widths) {
            list.append(k).append(',');
        }
        for (BigInteger seed : SEEDS) {
            List<BigInteger> expected = bigs(ReferencePython.run("import random, sys\n"
                    + "random.seed(int(sys.argv[1]))\n"
                    + "for k in [" + list + "]:\n"
                    + "    print(random.getrandbits(k))\n", seed.toString()));
            PythonRandom random = new PythonRandom(seed);
            List<BigInteger> actual = new ArrayList<>();
            for (int k : widths) {
                actual.add(k <= 63 ? BigInteger.valueOf(random.getrandbits(k)) : random.getrandbitsBig(k));
            }
            assertEquals(expected, actual, "seed " + seed);
        }
    }

    @Test
    void longAndBigIntegerPathsDrawTheSameNumbers() {
        PythonRandom viaLong = new PythonRandom(9);
        PythonRandom viaBig = new PythonRandom(BigInteger.valueOf(9));
        for (int k = 0; k <= 63; k++) {
            assertEquals(BigInteger.valueOf(viaLong.getrandbits(k)), viaBig.getrandbitsBig(k), "k=" + k);
        }
    }

    @Test
    void reseedingRestartsTheSequence() {
        PythonRandom random = new PythonRandom(3);
        long first = random.randint(0, 1_000_000);
        random.randint(0, 1_000_000);
        random.seed(3);
        assertEquals(first, random.randint(0, 1_000_000));
    }

    @Test
    void badArgumentsAreRefused() {
        PythonRandom random = new PythonRandom(0);
        assertEquals("randint(a, b) needs a <= b, got a=5, b=4",
                assertThrows(IllegalArgumentException.class, () -> random.randint(5, 4)).getMessage());
        assertEquals("randbelow(n) needs n > 0, got 0",
                assertThrows(IllegalArgumentException.class, () -> random.randbelow(0)).getMessage());
        assertEquals("getrandbits(k) as a long needs 0 <= k <= 63, got 64; use getrandbitsBig for more bits",
                assertThrows(IllegalArgumentException.class, () -> random.getrandbits(64)).getMessage());
        assertEquals("number of bits must be non-negative, got -1",
                assertThrows(IllegalArgumentException.class, () -> random.getrandbitsBig(-1)).getMessage());
    }

    private static List<BigInteger> bigs(String output) {
        List<BigInteger> values = new ArrayList<>();
        for (String word : output.trim().split("\\s+")) {
            values.add(new BigInteger(word));
        }
        return values;
    }
}
