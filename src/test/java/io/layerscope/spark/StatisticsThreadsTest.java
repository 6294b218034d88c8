package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.util.concurrent.ForkJoinPool;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class StatisticsThreadsTest {
    private static final int AVAILABLE = 12;

    @Test
    void localMastersGiveTheirThreadCount() {
        assertEquals(3, StatisticsThreads.executorCores("local[3]", null, AVAILABLE));
        assertEquals(AVAILABLE, StatisticsThreads.executorCores("local[*]", null, AVAILABLE));
        assertEquals(1, StatisticsThreads.executorCores("local", null, AVAILABLE));
        assertEquals(2, StatisticsThreads.executorCores("local[2,2]", null, AVAILABLE));   // the tests' master
        assertEquals(AVAILABLE, StatisticsThreads.executorCores("local[*, 4]", null, AVAILABLE));
        assertEquals(3, StatisticsThreads.executorCores("local-cluster[2, 3, 1024]", null, AVAILABLE));
        // the master decides in local mode
        assertEquals(5, StatisticsThreads.executorCores("local[5]", "2", AVAILABLE));
    }

    @Test
    void clusterMastersGiveTheExecutorCoresOrSparksDefaultForThem() {
        assertEquals(4, StatisticsThreads.executorCores("spark://head:7077", "4", AVAILABLE));
        assertEquals(8, StatisticsThreads.executorCores("yarn", " 8 ", AVAILABLE));
        assertEquals(6, StatisticsThreads.executorCores("k8s://https://api:6443", "6", AVAILABLE));
        // unset: a standalone executor has all its worker's cores, YARN and Kubernetes give executors one
        assertEquals(AVAILABLE, StatisticsThreads.executorCores("spark://head:7077", null, AVAILABLE));
        assertEquals(1, StatisticsThreads.executorCores("yarn", null, AVAILABLE));
        assertEquals(1, StatisticsThreads.executorCores("k8s://https://api:6443", null, AVAILABLE));
    }

    @Test
    void readsBothSettingsFromTheSparkConf() {
        SparkConf local = new SparkConf(false).setMaster("local[3]");
        assertEquals(3, StatisticsThreads.executorCores(local, AVAILABLE));
        SparkConf cluster = new SparkConf(false).setMaster("spark://head:7077").set("spark.executor.cores", "6");
        assertEquals(6, StatisticsThreads.executorCores(cluster, AVAILABLE));
        assertEquals(Runtime.getRuntime().availableProcessors(), StatisticsThreads.executorCores(
                new SparkConf(false).setMaster("local[*]"), Runtime.getRuntime().availableProcessors()));
    }

    @Test
    void rejectsExecutorCoresThatAreNoPositiveNumber() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> StatisticsThreads.executorCores("yarn", "two", AVAILABLE));
        assertEquals("spark.executor.cores is 'two', which gives no positive number of executor cores for the layer"
                + " statistics threads. Set spark.executor.cores to a positive whole number (local[N] for"
                + " spark.master).", e.getMessage());
        assertThrows(LayerscopeException.class, () -> StatisticsThreads.executorCores("spark://h:7077", "0", AVAILABLE));
    }

    @Test
    void poolThreadsAreNamedDaemons() throws Exception {
        ForkJoinPool pool = StatisticsThreads.newPool(3);
        try {
            assertEquals(3, pool.getParallelism());
            Thread thread = pool.submit(Thread::currentThread).get();
            assertTrue(thread.getName().matches("layerscope-stats-[0-9]+"), thread.getName());
            assertTrue(thread.isDaemon());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void layersFrom2048By2048UseThePool() {
        assertTrue(StatisticsThreads.worthAPool(2048, 2048));       // 4 Mi entries: Llama-3.2-1B q_proj
        assertTrue(StatisticsThreads.worthAPool(128256, 512));
        assertFalse(StatisticsThreads.worthAPool(512, 2048));       // k_proj
        assertFalse(StatisticsThreads.worthAPool(2047, 2048));
    }
}
