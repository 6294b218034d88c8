package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The line a signal prints names what the job had put in place, waiting for a move under way. */
class KeptOutputsTest {

    @AfterEach
    void forget() {
        KeptOutputs.begin();
        KeptOutputs.forgetAllForTests();
    }

    @Test
    void nothingInPlaceIsTheUsualLine() {
        KeptOutputs.begin();
        assertEquals("error: interrupted; incomplete results are not kept", KeptOutputs.stopLine(Duration.ZERO));
    }

    @Test
    void whatIsInPlaceIsSaid() {
        KeptOutputs.begin();
        assertEquals("the results are in /r", KeptOutputs.put("the results", () -> "the results are in /r"));
        assertEquals("error: interrupted; the results are in /r; what was not yet in place is not kept",
                KeptOutputs.stopLine(Duration.ZERO));
        KeptOutputs.begin();   // the next job's
        assertEquals("error: interrupted; incomplete results are not kept", KeptOutputs.stopLine(Duration.ZERO));
    }

    @Test
    void anEarlierOutputIsSaidUnchangedUntilItsReplacementStarts() {
        KeptOutputs.begin();
        java.util.concurrent.atomic.AtomicBoolean replacing = new java.util.concurrent.atomic.AtomicBoolean();
        KeptOutputs.replacing(() -> replacing.get() ? null : "the earlier results in /r are unchanged");
        assertEquals(java.util.List.of("the earlier results in /r are unchanged"), KeptOutputs.unchanged());
        assertEquals("error: interrupted; incomplete results are not kept; the earlier results in /r are unchanged",
                KeptOutputs.stopLine(Duration.ZERO));
        replacing.set(true);
        assertEquals(java.util.List.of(), KeptOutputs.unchanged());
        assertEquals("error: interrupted; incomplete results are not kept", KeptOutputs.stopLine(Duration.ZERO));
        replacing.set(false);
        KeptOutputs.begin();   // the next job's: an earlier job's is not this one's
        assertEquals(java.util.List.of(), KeptOutputs.unchanged());
    }

    @Test
    void jobsSideBySideEachStartWithoutTheOthersForgotten() throws Exception {
        KeptOutputs.begin();
        KeptOutputs.put("the results", () -> "the results are in /a");
        Thread other = new Thread(() -> {
            KeptOutputs.begin();   // another job's start on its own thread
            KeptOutputs.put("the results", () -> "the results are in /b");
        });
        other.start();
        other.join();
        String line = KeptOutputs.stopLine(Duration.ZERO);
        // both jobs' outputs, in either order
        assertTrue(line.equals("error: interrupted; the results are in /a; the results are in /b; what was not yet in place"
                + " is not kept") || line.equals("error: interrupted; the results are in /b; the results are in /a; what was"
                + " not yet in place is not kept"), line);
    }

    @Test
    void aMoveUnderWayIsWaitedFor() throws Exception {
        KeptOutputs.begin();
        CountDownLatch moving = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> move = CompletableFuture.supplyAsync(() -> KeptOutputs.put("the pruned model", () -> {
            moving.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return "the pruned model is in /p";
        }));
        moving.await();
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> KeptOutputs.stopLine(Duration.ofSeconds(30)));
        Thread.sleep(200);
        assertFalse(line.isDone(), "the line waits for the move");
        release.countDown();
        assertEquals("the pruned model is in /p", move.get(10, TimeUnit.SECONDS));
        assertEquals("error: interrupted; the pruned model is in /p; what was not yet in place is not kept",
                line.get(10, TimeUnit.SECONDS));
    }
}
