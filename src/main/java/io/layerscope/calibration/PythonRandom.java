package io.layerscope.calibration;

import java.math.BigInteger;

/**
 * CPython's {@code random.Random} (MT19937), bit for bit, for the calls Wanda's calibration
 * sampling makes: {@code seed(int)}, {@code getrandbits(k)}, {@code _randbelow(n)} and
 * {@code randint(a, b)}. Same seed, same calls, same numbers as {@code python3}, so calibration
 * windows equal Wanda's. Not thread-safe (neither is sharing one Python generator).
 *
 * <pre>{@code
 * PythonRandom random = new PythonRandom(0);
 * long doc = random.randint(0, 356316);   // 201979, as random.seed(0); random.randint(0, 356316)
 * }</pre>
 */
public final class PythonRandom {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] mt = new int[N];
    private int mti;

    /** Seeded as {@code random.Random(seed)}. */
    public PythonRandom(long seed) {
        seed(seed);
    }

    /** Seeded as {@code random.Random(seed)}. */
    public PythonRandom(BigInteger seed) {
        seed(seed);
    }

    private PythonRandom(PythonRandom other) {
        System.arraycopy(other.mt, 0, mt, 0, N);
        mti = other.mti;
    }

    /** A generator in this one's state: its draws are the ones this one makes next ({@code random.getstate()}). */
    public PythonRandom copy() {
        return new PythonRandom(this);
    }

    /** {@code random.seed(a)} for an int: like CPython, a negative seed means its absolute value. */
    public void seed(long a) {
        seed(BigInteger.valueOf(a));
    }

    /**
     * {@code random.seed(a)} for an int: the key is the 32-bit words of |a|, least significant
     * first ({@code [0]} for 0), fed to MT19937's {@code init_by_array}.
     */
    public void seed(BigInteger a) {
        BigInteger n = a.abs();
        int words = n.signum() == 0 ? 1 : (n.bitLength() - 1) / 32 + 1;
        int[] key = new int[words];
        for (int i = 0; i < words; i++) {
            key[i] = n.shiftRight(32 * i).intValue();
        }
        initByArray(key);
    }

    /**
     * {@code getrandbits(k)} for 0 <= k <= 63, as a non-negative long. Like CPython, each 32-bit
     * draw fills the next word from the least significant end, and the last word keeps only its
     * top bits.
     */
    public long getrandbits(int k) {
        if (k < 0 || k > 63) {
            throw new IllegalArgumentException("getrandbits(k) as a long needs 0 <= k <= 63, got " + k
                    + "; use getrandbitsBig for more bits");
        }
        if (k <= 32) {
            return k == 0 ? 0 : (genrandUint32() & 0xffffffffL) >>> (32 - k);
        }
        long low = genrandUint32() & 0xffffffffL;
        long high = (genrandUint32() & 0xffffffffL) >>> (64 - k);
        return (high << 32) | low;
    }

    /** {@code getrandbits(k)} for any k >= 0, as CPython builds it: 32-bit words, little end first. */
    public BigInteger getrandbitsBig(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("number of bits must be non-negative, got " + k);
        }
        if (k <= 63) {
            return BigInteger.valueOf(getrandbits(k));
        }
        int words = (k - 1) / 32 + 1;
        byte[] bigEndian = new byte[4 * words + 1]; // leading zero byte keeps the value positive
        int remaining = k;
        for (int i = 0; i < words; i++, remaining -= 32) {
            int r = genrandUint32();
            if (remaining < 32) {
                r >>>= 32 - remaining;
            }
            int at = bigEndian.length - 4 * (i + 1);
            bigEndian[at] = (byte) (r >>> 24);
            bigEndian[at + 1] = (byte) (r >>> 16);
            bigEndian[at + 2] = (byte) (r >>> 8);
            bigEndian[at + 3] = (byte) r;
        }
        return new BigInteger(bigEndian);
    }

    /** {@code _randbelow(n)} (rejection sampling on getrandbits(bit_length(n))): uniform in [0, n), n > 0. */
    public long randbelow(long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("randbelow(n) needs n > 0, got " + n);
        }
        int k = 64 - Long.numberOfLeadingZeros(n);
        long r = getrandbits(k);
        while (r >= n) {
            r = getrandbits(k);
        }
        return r;
    }

    /** {@code _randbelow(n)} for any n > 0. */
    public BigInteger randbelow(BigInteger n) {
        if (n.signum() <= 0) {
            throw new IllegalArgumentException("randbelow(n) needs n > 0, got " + n);
        }
        if (n.bitLength() <= 63) {
            return BigInteger.valueOf(randbelow(n.longValue()));
        }
        int k = n.bitLength();
        BigInteger r = getrandbitsBig(k);
        while (r.compareTo(n) >= 0) {
            r = getrandbitsBig(k);
        }
        return r;
    }

    /** {@code randint(a, b)}: uniform in [a, b], both ends included; a <= b. */
    public long randint(long a, long b) {
        if (b < a) {
            throw new IllegalArgumentException("randint(a, b) needs a <= b, got a=" + a + ", b=" + b);
        }
        long width = b - a + 1;
        if (width <= 0) { // the range does not fit a long; same draws through BigInteger
            return randint(BigInteger.valueOf(a), BigInteger.valueOf(b)).longValueExact();
        }
        return a + randbelow(width);
    }

    /** {@code randint(a, b)} for any integers a <= b. */
    public BigInteger randint(BigInteger a, BigInteger b) {
        if (b.compareTo(a) < 0) {
            throw new IllegalArgumentException("randint(a, b) needs a <= b, got a=" + a + ", b=" + b);
        }
        return a.add(randbelow(b.subtract(a).add(BigInteger.ONE)));
    }

    /** One tempered 32-bit output of MT19937 ({@code genrand_uint32}), as an int holding the bits. */
    int genrandUint32() {
        if (mti >= N) {
            regenerate();
        }
        int y = mt[mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void regenerate() {
        int kk = 0;
        for (; kk < N - M; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        }
        for (; kk < N - 1; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        }
        int y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) * MATRIX_A);
        mti = 0;
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        mti = N;
    }

    /** MT19937's init_by_array, with 32-bit wrap-around arithmetic (Java int overflow is exactly that). */
    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) {
                j = 0;
            }
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000; // MSB is 1, assuring a non-zero initial array
        mti = N;
    }
}
