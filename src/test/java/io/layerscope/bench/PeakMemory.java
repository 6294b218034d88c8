package io.layerscope.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's peak resident set size (Linux {@code VmHWM}) and CPU time, and the load average,
 * so each measurement can say how busy the machine was while it ran. On a shared machine CPU
 * seconds per token vary far less than wall seconds: they count the work, not the waiting.
 */
public final class PeakMemory {
    private PeakMemory() {
    }

    /** Peak resident memory of this process in MiB, or -1 where /proc is not readable. */
    public static double peakResidentMiB() {
        try {
            return parseVmHwmMiB(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The VmHWM line of a /proc/PID/status text ("VmHWM:  123456 kB") in MiB; -1 when absent. */
    static double parseVmHwmMiB(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
                return Long.parseLong(parts[0]) / 1024.0;
            }
        }
        return -1;
    }

    /** CPU seconds this process has used so far, every thread (native ones too), or -1 where unknown. */
    public static double processCpuSeconds() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime() / 1e9;
        }
        return -1;
    }

    /** The 1-minute load average, or -1 where the system does not report it. */
    public static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
