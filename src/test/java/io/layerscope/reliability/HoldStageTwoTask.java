package io.layerscope.reliability;

import io.layerscope.spark.SweepHook;

/**
 * Holds every task of stage two (the per-layer statistics) as it starts, for a signal to land amid
 * the stage whatever the machine's speed: the first says so on stderr, then each waits (up to a
 * minute) for the signal that ends the JVM. Local mode: the tasks run in the driver's JVM.
 */
public final class HoldStageTwoTask implements SweepHook {
    /** The line printed once a stage-two task is held. */
    static final String HOLDING = "test hook: holding stage two's tasks";
    private static final java.util.concurrent.atomic.AtomicBoolean SAID = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void taskStarts(String stage) {
        if (!stage.equals("layer")) {
            return;
        }
        if (SAID.compareAndSet(false, true)) {
            System.err.println(HOLDING);
        }
        HoldResultsWriting.awaitTheSignal();
    }
}
