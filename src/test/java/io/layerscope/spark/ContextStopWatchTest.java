package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A wait on a job Spark lost as its context stopped ends once the context is seen stopped. */
class ContextStopWatchTest {
    @Test
    void aWaitForAJobThatNeverEndsIsInterruptedOnceTheContextStops() throws Exception {
        AtomicBoolean stopped = new AtomicBoolean();
        CompletableFuture<Void> lostJob = new CompletableFuture<>();   // never completed, as a dropped job's waiter
        CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> stopped.set(true));
        try (ContextStopWatch watch = ContextStopWatch.interrupting(stopped::get, Thread.currentThread())) {
            assertThrows(InterruptedException.class, () -> lostJob.get(60, TimeUnit.SECONDS));
            assertTrue(watch.fired());
        }
        assertFalse(Thread.currentThread().isInterrupted(), "the watch's interrupt outlived it");
    }

    @Test
    void aWatchClosedBeforeTheContextStopsInterruptsNothing() throws Exception {
        AtomicBoolean stopped = new AtomicBoolean();
        ContextStopWatch watch = ContextStopWatch.interrupting(stopped::get, Thread.currentThread());
        watch.close();
        stopped.set(true);
        Thread.sleep(600);   // more than two of the watch's polls
        assertFalse(watch.fired());
        assertFalse(Thread.interrupted(), "interrupted after the watch closed");
    }
}
