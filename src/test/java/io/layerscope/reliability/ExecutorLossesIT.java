package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.ContainerMemoryLimit;
import io.layerscope.spark.Setbacks;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A job waiting on Spark's scheduler is released as the context stops, before the listeners have been
 * given the events queued until then: an executor killed for its memory just before must still be told.
 * A slow listener ahead of Setbacks in Spark's shared queue holds the removal back for 2 s.
 */
class ExecutorLossesIT {
    /** Ahead of Setbacks in the same queue: each removal reaches it 2 s late. */
    public static final class SlowListener extends SparkListener {
        @Override
        public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
            try {
                Thread.sleep(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @AfterAll
    static void stop() {
        TestSessions.stop();
        Setbacks.clear();
    }

    @Test
    void aMemoryKillQueuedAsTheContextStopsIsStillTold() throws Exception {
        SparkContext sc = TestSessions.start("local[1]", Map.of("spark.extraListeners",
                SlowListener.class.getName() + "," + Setbacks.class.getName())).sparkContext();
        sc.listenerBus().post(new SparkListenerExecutorRemoved(System.currentTimeMillis(), "3",
                "Container killed by YARN for exceeding physical memory limits. 1.1 GB of 1 GB physical memory used."
                        + " Consider boosting spark.executor.memoryOverhead."));
        Thread stopping = new Thread(sc::stop, "stop");
        stopping.start();
        while (!sc.isStopped()) {
            Thread.sleep(1);
        }
        // as a job gets it once the context stops; the removal is still queued behind the slow listener
        LayerscopeException told = ContainerMemoryLimit.explain(new RuntimeException(
                "Job 1 cancelled because SparkContext was shut down"));
        stopping.join();
        assertTrue(told != null && told.getMessage().startsWith("Spark stopped after losing executors (memory kills: 1):"
                + " YARN killed executors for exceeding their containers' physical memory (1.1 GB of 1 GB"), String.valueOf(told));
    }
}
