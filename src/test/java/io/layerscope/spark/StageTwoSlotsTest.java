package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.apache.spark.SparkConf;
import org.apache.spark.resource.ResourceProfile;
import org.junit.jupiter.api.Test;

class StageTwoSlotsTest {

    private static SparkConf conf(String... pairs) {
        SparkConf c = new SparkConf(false).set("spark.master", "spark://head:7077");
        for (int i = 0; i < pairs.length; i += 2) {
            c.set(pairs[i], pairs[i + 1]);
        }
        return c;
    }

    private static final String[] GPU_PROFILE = {"spark.executor.cores", "8", "spark.task.cpus", "8",
        "spark.executor.resource.gpu.amount", "1", "spark.task.resource.gpu.amount", "1"};

    @Test
    void aCpuClusterWithSeveralCoresPerForwardTaskRunsOneLayerPerCore() {
        assertEquals(Optional.of(new StageTwoSlots(1, 0)), StageTwoSlots.of(conf("spark.task.cpus", "4"), StatsDevice.AUTO, false));
        assertEquals(Optional.empty(), StageTwoSlots.of(conf(), StatsDevice.AUTO, false));
        assertEquals(Optional.empty(), StageTwoSlots.of(conf("spark.task.cpus", "1"), StatsDevice.DEVICE, true));
    }

    @Test
    void theGpuProfileSharesEachGpuAmongTheExecutorsCoresWhenStageTwoUsesIt() {
        assertEquals(Optional.of(new StageTwoSlots(1, 0.125)), StageTwoSlots.of(conf(GPU_PROFILE), StatsDevice.AUTO, false));
        assertEquals(Optional.of(new StageTwoSlots(1, 0.125)), StageTwoSlots.of(conf(GPU_PROFILE), StatsDevice.DEVICE, false));
        // the Gram products run on the task's device even when the statistics run in Java
        assertEquals(Optional.of(new StageTwoSlots(1, 0.125)), StageTwoSlots.of(conf(GPU_PROFILE), StatsDevice.JAVA, true));
        SparkConf two = conf(GPU_PROFILE).set("spark.executor.resource.gpu.amount", "2");
        assertEquals(Optional.of(new StageTwoSlots(1, 0.25)), StageTwoSlots.of(two, StatsDevice.AUTO, false));
        SparkConf three = conf(GPU_PROFILE).set("spark.executor.resource.gpu.amount", "3");
        assertEquals(Optional.of(new StageTwoSlots(1, 1.0 / 3)), StageTwoSlots.of(three, StatsDevice.AUTO, false));
        SparkConf eight = conf(GPU_PROFILE).set("spark.executor.resource.gpu.amount", "8");
        assertEquals(Optional.of(new StageTwoSlots(1, 1)), StageTwoSlots.of(eight, StatsDevice.AUTO, false));
    }

    @Test
    void javaStatisticsOnAGpuClusterAskForNoGpu() {
        assertEquals(Optional.of(new StageTwoSlots(1, 0)), StageTwoSlots.of(conf(GPU_PROFILE), StatsDevice.JAVA, false));
    }

    @Test
    void whereSparkCannotChangeTaskRequestsOrTheShareIsUnknownTheJobsSettingsStay() {
        assertEquals(Optional.empty(), StageTwoSlots.of(conf(GPU_PROFILE).set("spark.master", "local[4]"), StatsDevice.AUTO, false));
        assertEquals(Optional.empty(), StageTwoSlots.of(conf(GPU_PROFILE).set("spark.dynamicAllocation.enabled", "true"),
                StatsDevice.AUTO, false));
        SparkConf noCores = conf(GPU_PROFILE);
        noCores.remove("spark.executor.cores");
        assertEquals(Optional.empty(), StageTwoSlots.of(noCores, StatsDevice.AUTO, false));
        // already one core and the share per task: nothing to change
        assertEquals(Optional.empty(), StageTwoSlots.of(conf("spark.executor.cores", "4", "spark.task.cpus", "1",
                "spark.executor.resource.gpu.amount", "1", "spark.task.resource.gpu.amount", "0.25"), StatsDevice.AUTO, false));
    }

    @Test
    void theProfileAsksForTasksOnlyAndSaysSo() {
        ResourceProfile p = new StageTwoSlots(1, 0.125).profile();
        assertEquals(1, (int) p.taskResources().get("cpus").get().amount());
        assertEquals(0.125, p.taskResources().get("gpu").get().amount());
        assertEquals(true, p.executorResources().isEmpty());
        assertEquals("1 core and 0.125 of a GPU per task", new StageTwoSlots(1, 0.125).describe());
        assertEquals("1 core per task", new StageTwoSlots(1, 0).describe());
    }
}
