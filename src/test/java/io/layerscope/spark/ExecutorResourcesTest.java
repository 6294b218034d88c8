package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

class ExecutorResourcesTest {
    @Test
    void devicesNameTheMklShimOnlyForCpuExecutorsThatPreloadIt() {
        String preload = "/opt/other.so:/repo/target/native/libmkl_intel_cpu_true.so";
        assertEquals(" (MKL CPU check bypassed by libmkl_intel_cpu_true.so)",
                ExecutorResources.blasNote(Device.cpu(), preload));
        assertEquals("", ExecutorResources.blasNote(Device.gpu(0), preload));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), null));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), "/opt/other.so"));
    }
}
