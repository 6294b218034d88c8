package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.layerscope.LayerscopeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link PartitionsInOrder} on a real local Spark context: collect's order, whatever order tasks end in. */
class PartitionsInOrderIT {
    static JavaSparkContext jsc;
    /** Counted down by partitions 1..7 of the ordering test, awaited by partition 0 (tasks run in this JVM). */
    static final AtomicReference<CountDownLatch> OTHERS_DONE = new AtomicReference<>();

    @BeforeAll
    static void spark() {
        jsc = JavaSparkContext.fromSparkContext(SparkSessions.getOrCreate("test").sparkContext());
    }

    @Test
    void theElementsComeInCollectsOrderWhenTheFirstPartitionEndsLast() {
        assumeTrue(jsc.sc().defaultParallelism() >= 2, "needs two task slots: the first partition waits for the others");
        List<Integer> values = IntStream.range(0, 40).boxed().toList();
        // the first partition's task ends after every other (local mode: one JVM, one latch); they wait for it
        OTHERS_DONE.set(new CountDownLatch(7));
        JavaRDD<Integer> rdd = jsc.parallelize(values, 8).mapPartitionsWithIndex((p, it) -> {
            if (p == 0) {
                assertTrue(OTHERS_DONE.get().await(120, TimeUnit.SECONDS), "the other partitions did not finish");
            } else {
                OTHERS_DONE.get().countDown();
            }
            return it;
        }, true);
        List<Integer> seen = new ArrayList<>();
        int mostWaiting = PartitionsInOrder.forEach(rdd, v -> seen.add(v));
        assertTrue(mostWaiting >= 1, "partitions that finished before the first waited: " + mostWaiting);
        assertEquals(rdd.collect(), seen);
        assertEquals(values, seen);
    }

    @Test
    void whatTheConsumerThrowsIsThrownAsItWas() {
        JavaRDD<Integer> rdd = jsc.parallelize(List.of(1, 2, 3, 4), 2);
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> PartitionsInOrder.forEach(rdd, v -> {
            if (v == 3) {
                throw new LayerscopeException("no 3s here");
            }
        }));
        assertEquals("no 3s here", e.getMessage());
    }

    /** The driver's heap running out in the merge fails the job, not Spark: the context goes on. */
    @Test
    void theHeapRunningOutInTheMergeFailsTheJobAndSparkGoesOn() {
        JavaRDD<Integer> rdd = jsc.parallelize(List.of(1, 2, 3, 4), 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PartitionsInOrder.forEach(rdd, v -> {
            throw new OutOfMemoryError("Java heap space");
        }));
        assertEquals("the driver ran out of memory merging the tasks' results", e.getMessage());
        assertEquals("Java heap space", e.getCause().getMessage());
        assertEquals(4L, jsc.parallelize(List.of(1, 2, 3, 4), 2).count());
    }

    @Test
    void aFailedTaskFailsTheJobAsCollectWould() {
        JavaRDD<Integer> rdd = jsc.parallelize(List.of(1, 2, 3, 4), 2).map(v -> {
            if (v == 4) {
                throw new IllegalArgumentException("four");
            }
            return v;
        });
        Exception e = assertThrows(Exception.class, () -> PartitionsInOrder.forEach(rdd, v -> { }));
        assertEquals("org.apache.spark.SparkException", e.getClass().getName());
        assertTrue(e.getMessage().contains("java.lang.IllegalArgumentException: four"), e.getMessage());
    }
}
