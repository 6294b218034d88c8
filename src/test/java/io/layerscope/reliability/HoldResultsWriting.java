package io.layerscope.reliability;

import io.layerscope.spark.SweepHook;
import java.nio.file.Path;

/**
 * Holds a sweep midway through writing its results, for a signal to land there whatever the
 * machine's speed: the layers table is in the staging directory and other writers are at work
 * ({@link SweepHook#resultsWriting}). It says so on stderr, then waits (up to a minute) for the
 * signal that ends the JVM.
 */
public final class HoldResultsWriting implements SweepHook {
    /** The line this hook prints once the results are partly written. */
    static final String HOLDING = "test hook: holding the results' writing in ";

    @Override
    public void resultsWriting(Path staging) {
        System.err.println(HOLDING + staging);
        awaitTheSignal();
    }

    /** Waits up to a minute for the test's signal, which ends the JVM meanwhile. */
    static void awaitTheSignal() {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
