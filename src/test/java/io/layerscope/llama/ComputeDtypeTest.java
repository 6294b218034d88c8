package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

class ComputeDtypeTest {
    @Test
    void autoIsFloat32OnTheCpuAndFloat16OnAGpu() {
        assertEquals(DataType.FLOAT32, ComputeDtype.AUTO.resolve(Device.cpu()));
        assertEquals(DataType.FLOAT16, ComputeDtype.AUTO.resolve(Device.gpu(0)));
        assertEquals(DataType.FLOAT32, ComputeDtype.FLOAT32.resolve(Device.gpu(0)));
        assertEquals(DataType.FLOAT16, ComputeDtype.FLOAT16.resolve(Device.cpu()));
    }

    @Test
    void parsesTheCommandLineSpellings() {
        assertEquals(ComputeDtype.AUTO, ComputeDtype.parse("auto"));
        assertEquals(ComputeDtype.FLOAT32, ComputeDtype.parse("Float32"));
        assertEquals(ComputeDtype.FLOAT16, ComputeDtype.parse("float16"));
        assertEquals("--dtype \"bfloat16\" is not supported; use auto, float32 or float16 (bfloat16 checkpoints are read"
                        + " fine: their weights are widened to the compute dtype)",
                assertThrows(LayerscopeException.class, () -> ComputeDtype.parse("bfloat16")).getMessage());
    }
}
