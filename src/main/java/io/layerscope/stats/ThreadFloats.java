package io.layerscope.stats;

/**
 * A float array per thread, reused from call to call: a fresh array of a layer's size is memory the
 * kernel zeroes and the collector may copy, for every layer. When a larger one is needed the
 * thread's old one is let go before it is allocated.
 *
 * <pre>{@code
 * private static final ThreadFloats SCRATCH = new ThreadFloats();
 * float[] chunk = SCRATCH.atLeast(count);   // entries [0, count) are the caller's
 * }</pre>
 */
public final class ThreadFloats {
    private final ThreadLocal<float[]> slot = new ThreadLocal<>();

    /** The calling thread's array if it holds at least {@code n} entries, else a new one of {@code n} that replaces it. */
    public float[] atLeast(int n) {
        float[] a = slot.get();
        return a != null && a.length >= n ? a : replace(n);
    }

    /** The calling thread's array if it holds exactly {@code n} entries, else a new one of {@code n} that replaces it. */
    public float[] exactly(int n) {
        float[] a = slot.get();
        return a != null && a.length == n ? a : replace(n);
    }

    /** Lets the calling thread's array go. */
    public void release() {
        slot.remove();
    }

    private float[] replace(int n) {
        slot.remove();   // the old array goes before the new one is allocated
        float[] a = new float[n];
        slot.set(a);
        return a;
    }
}
