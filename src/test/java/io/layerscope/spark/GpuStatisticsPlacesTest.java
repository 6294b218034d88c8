package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Each GPU of a JVM holds at most spark.layerscope.gpuStatisticsAtOnce layers' statistics at once; the CPU any number. */
class GpuStatisticsPlacesTest {
    @Test
    void statisticsOnAGpuWaitForAPlaceOfThatGpu() throws Exception {
        assertEquals(4, GpuStatisticsPlaces.DEFAULT);
        assertEquals(4, mostAtOnce(Device.gpu(0), 7, 4));
        assertEquals(4, mostAtOnce(Device.gpu(1), 7, 4));
        assertEquals(7, mostAtOnce(Device.cpu(), 7, 7));
    }

    @Test
    void theSettingIsAWholeNumberOfAtLeastOne() {
        var conf = new org.apache.spark.SparkConf(false);
        assertEquals(4, GpuStatisticsPlaces.configured(conf));
        assertEquals(2, GpuStatisticsPlaces.configured(conf.set(GpuStatisticsPlaces.CONF, " 2 ")));
        for (String bad : List.of("0", "-1", "four", "2.5", "")) {
            conf.set(GpuStatisticsPlaces.CONF, bad);
            io.layerscope.LayerscopeException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.layerscope.LayerscopeException.class, () -> GpuStatisticsPlaces.configured(conf));
            assertEquals("spark.layerscope.gpuStatisticsAtOnce=" + bad.trim() + " is not a number of layers; use a whole"
                    + " number of at least 1 (the layers whose statistics a GPU holds at once, about 2.2 GB each; 4 by"
                    + " default)", e.getMessage());
        }
    }

    /** Beside a model kept on the GPU a layer takes every place, unless the setting says how many may share it. */
    @Test
    void besideAModelKeptOnTheGpuOneLayerAtATimeUnlessTold() {
        var conf = new org.apache.spark.SparkConf(false);
        assertEquals(1, GpuStatisticsPlaces.taken(conf, false));
        assertEquals(4, GpuStatisticsPlaces.taken(conf, true));
        conf.set(GpuStatisticsPlaces.CONF, "3");
        assertEquals(1, GpuStatisticsPlaces.taken(conf, true));
        assertEquals(1, GpuStatisticsPlaces.taken(conf, false));
    }

    /**
     * The most of {@code tasks} concurrent {@link GpuStatisticsPlaces#hold} calls that ran at once, each
     * holding its place until {@code expected} have started, and a little longer.
     */
    private static int mostAtOnce(Device device, int tasks, int expected) throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(expected);
        ExecutorService pool = Executors.newFixedThreadPool(tasks);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                done.add(pool.submit(() -> GpuStatisticsPlaces.hold(device, () -> {
                    most.accumulateAndGet(running.incrementAndGet(), Math::max);
                    started.countDown();
                    try {
                        started.await(10, TimeUnit.SECONDS);
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    running.decrementAndGet();
                    return 1;
                })));
            }
            for (Future<Integer> f : done) {
                assertEquals(1, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        return most.get();
    }
}
