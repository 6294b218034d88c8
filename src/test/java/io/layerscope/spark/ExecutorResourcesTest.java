package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

class ExecutorResourcesTest {
    @Test
    void devicesNameTheMklShimOnlyForCpuExecutorsThatLoadedIt() {
        String maps = "7f3c5a1e2000-7f3c5a1e3000 r-xp 00001000 08:01 1234  /opt/other.so\n"
                + "7f3c5a1f0000-7f3c5a1f1000 r-xp 00001000 08:01 5678  /repo/target/native/libmkl_intel_cpu_true.so\n";
        assertEquals(" (MKL CPU check bypassed by libmkl_intel_cpu_true.so)",
                ExecutorResources.blasNote(Device.cpu(), maps));
        assertEquals("", ExecutorResources.blasNote(Device.gpu(0), maps));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), ""));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), "7f3c5a1e2000-7f3c5a1e3000 r-xp 00001000 08:01 1234  /opt/other.so\n"));
    }
}
