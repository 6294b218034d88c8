package io.layerscope.spark;

/** Seconds as run.json keeps them: to the millisecond. */
final class RunSeconds {
    private RunSeconds() {
    }

    /** Seconds since {@code nanos} (a System.nanoTime() reading), to the millisecond. */
    static double since(long nanos) {
        return rounded((System.nanoTime() - nanos) / 1e9);
    }

    /** {@code seconds} to the millisecond. */
    static double rounded(double seconds) {
        return Math.round(seconds * 1e3) / 1e3;
    }
}
