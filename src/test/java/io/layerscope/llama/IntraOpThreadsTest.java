package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * libtorch's intra-op threads raised on one thread and put back: the other threads keep their own
 * count meanwhile, and a thread's first operation after it sees the count from before.
 */
class IntraOpThreadsTest {
    @Test
    void raisedOnOneThreadOnlyAndPutBack() throws Exception {
        NativeLibrary.engine().newBaseManager().close();
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            int before = IntraOpThreads.current();
            assertEquals(before, other.submit(IntraOpThreads::current).get());
            try (IntraOpThreads raised = IntraOpThreads.atLeast(before + 2)) {
                assertEquals(before + 2, IntraOpThreads.current());
                // a thread that has used libtorch keeps its own count
                assertEquals(before, other.submit(IntraOpThreads::current).get());
                // a sum over a million floats on the raised thread: the same as on the others
                try (NDManager m = NativeLibrary.engine().newBaseManager()) {
                    assertEquals(1_000_000f, m.ones(new Shape(1000, 1000)).sum().getFloat());
                }
            }
            assertEquals(before, IntraOpThreads.current());
            // a thread whose first operation comes after: the count from before
            int[] seen = new int[1];
            Thread fresh = new Thread(() -> seen[0] = IntraOpThreads.current());
            fresh.start();
            fresh.join();
            assertEquals(before, seen[0]);
            // never lowered
            try (IntraOpThreads same = IntraOpThreads.atLeast(1)) {
                assertEquals(before, IntraOpThreads.current());
            }
            assertEquals(before, IntraOpThreads.current());
        } finally {
            other.shutdown();
        }
    }
}
