package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RowChunksTest {
    private static ForkJoinPool three;

    @BeforeAll
    static void startPool() {
        three = new ForkJoinPool(3);
    }

    @AfterAll
    static void stopPool() {
        three.shutdownNow();
    }

    @Test
    void chunkSizeDependsOnTheRowLengthOnly() {
        assertEquals(2048, RowChunks.rowsPerChunk(512));   // 1 Mi entries
        assertEquals(512, RowChunks.rowsPerChunk(2048));
        assertEquals(128, RowChunks.rowsPerChunk(8192));
        assertEquals(1049, RowChunks.rowsPerChunk(999));    // floor(1048576 / 999)
        assertEquals(1, RowChunks.rowsPerChunk(3_000_000)); // never less than a row
        assertEquals(4, new RowChunks(10, 3, null).chunks());
        assertEquals(1, new RowChunks(2, 3, null).chunks());
    }

    @Test
    void partsArriveInChunkOrderOnThePoolAsOnTheCallingThread() {
        List<String> expected = List.of("0-3", "3-6", "6-9", "9-10");
        assertEquals(expected, ranges(null));
        assertEquals(expected, ranges(three));
    }

    /** Early chunks are made slow, so later ones finish first; the merge still sees chunk order. */
    private static List<String> ranges(ForkJoinPool pool) {
        List<String> merged = new ArrayList<>();
        new RowChunks(10, 3, pool).run((from, to) -> {
            sleep(from == 0 ? 60 : from == 3 ? 30 : 0);
            return from + "-" + to;
        }, merged::add);
        return merged;
    }

    @Test
    void atMostThePoolsParallelismOfPartsAreInFlight() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<Integer> merged = new ArrayList<>();
        new RowChunks(40, 1, three).run((from, to) -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            sleep(2);
            return from;
        }, part -> {
            inFlight.decrementAndGet();
            merged.add(part);
        });
        assertTrue(most.get() <= 3, "at most 3 parts in flight, saw " + most.get());
        assertEquals(40, merged.size());
        for (int c = 0; c < 40; c++) {
            assertEquals(c, merged.get(c));
        }
    }

    @Test
    void theFirstFailingChunkInOrderIsReportedAfterTheChunksBeforeIt() {
        for (ForkJoinPool pool : new ForkJoinPool[] {null, three}) {
            List<Integer> merged = new ArrayList<>();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new RowChunks(12, 2, pool).run(
                    (from, to) -> {
                        if (from == 4) {
                            sleep(50); // fails last, but first in order
                            throw new IllegalStateException("chunk at row 4");
                        }
                        if (from == 8) {
                            throw new IllegalStateException("chunk at row 8");
                        }
                        return from;
                    }, merged::add));
            assertEquals("chunk at row 4", e.getMessage());
            assertEquals(List.of(0, 2), merged);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
