package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ThreadFloatsTest {
    @Test
    void atLeastKeepsTheLargestArrayAndExactlyReplacesAnyOtherSize() {
        ThreadFloats floats = new ThreadFloats();
        float[] first = floats.atLeast(100);
        assertEquals(100, first.length);
        assertSame(first, floats.atLeast(60));          // a smaller request takes the longer array
        float[] larger = floats.atLeast(200);
        assertEquals(200, larger.length);
        assertSame(larger, floats.atLeast(200));
        float[] exact = floats.exactly(150);             // exactly: another size means a new array
        assertEquals(150, exact.length);
        assertSame(exact, floats.exactly(150));
        assertSame(exact, floats.atLeast(150));          // and it is the thread's array from then on
        floats.release();
        assertNotSame(exact, floats.atLeast(150));
    }

    @Test
    void eachThreadHasItsOwn() throws Exception {
        ThreadFloats floats = new ThreadFloats();
        float[] mine = floats.atLeast(10);
        float[] other = CompletableFuture.supplyAsync(() -> floats.atLeast(10)).get();
        assertNotSame(mine, other);
        assertSame(mine, floats.atLeast(10));
    }
}
