package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.layerscope.LayerscopeException;
import java.util.Locale;

/**
 * The floating type the forward pass computes in (the {@code --dtype} option). Weights are cast to it
 * when loaded; RMSNorm and softmax still run in float32 inside, as Hugging Face does, and the tap
 * sums are always accumulated in float32. bfloat16 is deliberately absent: DJL's PyTorch engine
 * aborts the JVM on a bfloat16 array, so bf16 checkpoints are widened on load.
 *
 * <pre>{@code
 * DataType t = ComputeDtype.parse("auto").resolve(Device.cpu());   // FLOAT32
 * }</pre>
 */
public enum ComputeDtype {
    /** float32 on the CPU (half-precision matmuls are slow there), float16 on a GPU. */
    AUTO,
    FLOAT32,
    FLOAT16;

    /** The DJL type this choice means on {@code device}; never {@link DataType#BFLOAT16}. */
    public DataType resolve(Device device) {
        return switch (this) {
            case AUTO -> device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
            case FLOAT32 -> DataType.FLOAT32;
            case FLOAT16 -> DataType.FLOAT16;
        };
    }

    /** Parses the command-line spelling: {@code auto}, {@code float32} or {@code float16}. */
    public static ComputeDtype parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> AUTO;
            case "float32", "fp32" -> FLOAT32;
            case "float16", "fp16", "half" -> FLOAT16;
            default -> throw new LayerscopeException("--dtype \"" + value + "\" is not supported; use auto, float32 or float16"
                    + " (bfloat16 checkpoints are read fine: their weights are widened to the compute dtype)");
        };
    }
}
