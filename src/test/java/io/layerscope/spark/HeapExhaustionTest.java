package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.stats.RowChunks;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** The heap running out in a task, as the message the driver prints; the end-to-end path is in TaskRetryIT. */
class HeapExhaustionTest {
    private static final long MIB = Runtime.getRuntime().maxMemory() >> 20;

    @Test
    void theHeapRunningOutBecomesAUserErrorThatNamesTheWorkAndTheRemedy() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> HeapExhaustion.guard(() -> "stage two, layer lm_head", () -> {
                    throw oom;
                }));
        // no SparkEnv here: the advice for local mode, where the driver's heap is the tasks' heap
        assertEquals("the Java heap (" + MIB + " MiB) ran out in stage two, layer lm_head; give the driver more heap"
                + " (local mode runs the tasks in the driver's JVM): --driver-memory, e.g. --driver-memory "
                + ((2 * MIB + 1023) / 1024) + "g, or run fewer tasks at once (--master local[N]); docs/CLUSTER.md"
                + " (executor memory) says what a model needs", e.getMessage());
        // the trace is kept, but not as an Error: Spark would end the JVM for one found among the causes
        assertEquals(RuntimeException.class, e.getCause().getClass());
        assertEquals("java.lang.OutOfMemoryError: Java heap space", e.getCause().getMessage());
        assertEquals(List.of(oom.getStackTrace()), List.of(e.getCause().getStackTrace()));
        assertEquals(null, e.getCause().getCause());
        assertEquals("the Java heap (" + MIB + " MiB) ran out in x;",
                HeapExhaustion.explain(new OutOfMemoryError("GC overhead limit exceeded"), "x").getMessage()
                        .substring(0, ("the Java heap (" + MIB + " MiB) ran out in x;").length()));
    }

    @Test
    void anAllocationPastTheHeapOnAStatisticsPoolThreadReachesTheTaskAsTheUserError() {
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            RowChunks chunks = new RowChunks(4, 1, pool);
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> HeapExhaustion.guard(() -> "a pass",
                    () -> {
                        // more than any test heap: the JVM refuses it at once, without filling the heap first
                        chunks.run((from, to) -> new long[Integer.MAX_VALUE - 8], part -> { });
                        return null;
                    }));
            assertEquals("the Java heap (" + MIB + " MiB) ran out in a pass;", e.getMessage().substring(0, e.getMessage().indexOf(';') + 1));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void otherKindsOfOutOfMemoryAreRethrownAsTheyAre() {
        for (String message : List.of("Metaspace", "Direct buffer memory", "unable to create native thread: possibly out of"
                + " memory", "Requested array size exceeds VM limit")) {
            OutOfMemoryError oom = new OutOfMemoryError(message);
            assertSame(oom, assertThrows(OutOfMemoryError.class, () -> HeapExhaustion.guard(() -> "x", () -> {
                throw oom;
            })));
        }
        OutOfMemoryError bare = new OutOfMemoryError();
        assertSame(bare, assertThrows(OutOfMemoryError.class, () -> HeapExhaustion.explain(bare, "x")));
        OutOfMemoryError metaspace = new OutOfMemoryError("Metaspace");
        assertSame(metaspace, assertThrows(OutOfMemoryError.class, () -> HeapExhaustion.onDriver(metaspace, "x")));
    }

    @Test
    void resultsAndOtherErrorsPassThrough() {
        assertEquals("done", HeapExhaustion.guard(() -> "x", () -> "done"));
        IllegalStateException other = new IllegalStateException("other");
        assertSame(other, assertThrows(IllegalStateException.class, () -> HeapExhaustion.guard(() -> "x", () -> {
            throw other;
        })));
    }
}
