package io.layerscope.spark;

import ai.djl.Device;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.layerscope.LayerscopeException;
import java.util.Locale;

/**
 * Where stage two computes a layer's statistics and the forward its depth statistics
 * (--stats-device): on the executor's CPU in plain Java ({@link io.layerscope.stats.LayerStatistics},
 * and scans of host copies for the depth), or as libtorch operations on the task's device
 * ({@link io.layerscope.llama.DeviceLayerStatistics}, and device reductions). Both give the same masks,
 * order statistics and counts; the double sums (mean, std, block influence) agree within 1e-6 relative.
 */
public enum StatsDevice {
    /** The device path on a GPU executor, plain Java on a CPU one. */
    AUTO,
    /** Plain Java on the executor's CPU cores. */
    JAVA,
    /** libtorch on the task's device (the CPU on a CPU executor). */
    DEVICE;

    /** Whether statistics computed on {@code device} run there through libtorch. */
    public boolean onDevice(Device device) {
        return this == DEVICE || this == AUTO && device.isGpu();
    }

    /** --stats-device's value, case-insensitive. */
    @JsonCreator
    public static StatsDevice parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "java" -> JAVA;
            case "device" -> DEVICE;
            default -> throw new LayerscopeException("--stats-device " + value + " is not a choice; use --stats-device auto,"
                    + " --stats-device java or --stats-device device");
        };
    }

    /** As typed on the command line and recorded in run.json. */
    @JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
