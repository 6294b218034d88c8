package io.layerscope.spark;

import ai.djl.Device;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * Places for layers' statistics on a GPU, per GPU of this JVM: each layer holds up to about 2.2 GB of
 * device memory there ({@link io.layerscope.llama.DeviceLayerStatistics}; with --gram, the output
 * errors' products), and a task per core would hold that many at once, beside the model where it stays
 * on the GPU (sequential mode, local mode's GPUs). {@value #CONF} sets how many (default
 * {@value #DEFAULT}); the other tasks wait for a place, their CPU work (reading the weight, drawing
 * the picture) done outside it.
 */
final class GpuStatisticsPlaces {
    /** The Spark setting for the places per GPU. */
    static final String CONF = "spark.layerscope.gpuStatisticsAtOnce";
    static final int DEFAULT = 4;
    private static final Map<Device, Semaphore> PLACES = new ConcurrentHashMap<>();

    private GpuStatisticsPlaces() {
    }

    /** Runs {@code work}, which computes statistics on {@code device}, in one of its places; on the CPU it just runs. */
    static <T> T hold(Device device, Supplier<T> work) {
        if (!device.isGpu()) {
            return work.get();
        }
        Semaphore places = PLACES.computeIfAbsent(device, d -> new Semaphore(configured(), true));
        try {
            places.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // a cancelled job: Spark interrupts its tasks
            throw new IllegalStateException("interrupted while waiting for a place on " + device, e);
        }
        try {
            return work.get();
        } finally {
            places.release();
        }
    }

    /** {@value #CONF} of this JVM's Spark, else {@value #DEFAULT}. */
    static int configured() {
        SparkEnv env = SparkEnv.get();
        return env == null ? DEFAULT : configured(env.conf());
    }

    /** {@value #CONF} in {@code conf} (at least 1), else {@value #DEFAULT}. */
    static int configured(SparkConf conf) {
        return Math.max(1, conf.getInt(CONF, DEFAULT));
    }
}
