package io.layerscope.spark;

import ai.djl.Device;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * Places for layers' statistics on a GPU, per GPU of this JVM: each layer holds up to about 2.2 GB of
 * device memory there ({@link io.layerscope.llama.DeviceLayerStatistics}), and a task per core would
 * hold that many at once. {@value #CONF} sets how many (default {@value #DEFAULT}); the other tasks
 * wait for a place, their CPU work (reading the weight, drawing the picture) done outside it. Beside
 * a model this JVM keeps on the GPU (sequential mode's, between a round's passes) a layer takes every
 * place unless the setting is given: one at a time, as before the rounds' tasks shared the executor.
 * The number is read once per JVM, at the first use (an executor serves one application).
 */
final class GpuStatisticsPlaces {
    /** The Spark setting for the places per GPU. */
    static final String CONF = "spark.layerscope.gpuStatisticsAtOnce";
    static final int DEFAULT = 4;
    private static final Map<Device, Places> PLACES = new ConcurrentHashMap<>();

    /** A GPU's places: {@code total} of them, fixed at the first use in this JVM. */
    private record Places(Semaphore free, int total) {
    }

    private GpuStatisticsPlaces() {
    }

    /** Runs {@code work}, which computes statistics on {@code device}, in a place; on the CPU it just runs. */
    static <T> T hold(Device device, Supplier<T> work) {
        if (!device.isGpu()) {
            return work.get();
        }
        SparkConf conf = SparkEnv.get() == null ? new SparkConf(false) : SparkEnv.get().conf();
        Places gpu = PLACES.computeIfAbsent(device, d -> {
            int all = configured(conf);
            return new Places(new Semaphore(all, true), all);
        });
        // never more than there are: a later application in this JVM may say another number
        int taking = Math.min(taken(conf, ExecutorResources.holdsModelOn(device)), gpu.total());
        Semaphore places = gpu.free();
        try {
            places.acquire(taking);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a place on " + device, e);
        }
        try {
            TaskContext task = TaskContext.get();
            if (task != null) {
                task.killTaskIfInterrupted();   // killed while it waited (a failed stage's other tasks)
            }
            return work.get();
        } finally {
            places.release(taking);
        }
    }

    /** The places a layer takes: all of them beside a model kept on the GPU unless {@value #CONF} is given, else one. */
    static int taken(SparkConf conf, boolean modelOnDevice) {
        return modelOnDevice && !conf.contains(CONF) ? configured(conf) : 1;
    }

    /** {@value #CONF} in {@code conf}, else {@value #DEFAULT}; a value that is no whole number of at least 1 is refused. */
    static int configured(SparkConf conf) {
        return WholeNumberSetting.read(conf, CONF, DEFAULT, 1, "layers", "of at least 1 (the layers whose statistics a"
                + " GPU holds at once, about 2.2 GB each; " + DEFAULT + " by default)");
    }
}
