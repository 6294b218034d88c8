package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The type guard of {@link DeviceArrays}, and that every NDArray the llama package makes passes it. */
class DeviceArraysTest {
    private static final String GUARD_MESSAGE = "refusing to create a bfloat16 NDArray: DJL's PyTorch engine aborts the JVM"
            + " on bfloat16, so bf16 data must be widened to float32 (or cast to float16) first; this is a bug in"
            + " layerscope, please report it";

    @Test
    void theGuardRefusesBfloat16BeforeDjlSeesIt() {
        assertEquals(DataType.FLOAT32, DeviceArrays.checked(DataType.FLOAT32));
        assertEquals(DataType.FLOAT16, DeviceArrays.checked(DataType.FLOAT16));
        assertEquals(GUARD_MESSAGE, assertThrows(IllegalArgumentException.class,
                () -> DeviceArrays.checked(DataType.BFLOAT16)).getMessage());
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ByteBuffer bytes = ByteBuffer.allocateDirect(8);
            // Each of these would abort the JVM if the type reached DJL; the test process survives.
            assertThrows(IllegalArgumentException.class, () -> DeviceArrays.wrap(m, bytes, new Shape(4), DataType.BFLOAT16));
            assertThrows(IllegalArgumentException.class, () -> DeviceArrays.empty(m, new Shape(4), DataType.BFLOAT16));
            assertThrows(IllegalArgumentException.class, () -> DeviceArrays.zeros(m, new Shape(4), DataType.BFLOAT16));
            NDArray a = DeviceArrays.zeros(m, new Shape(4), DataType.FLOAT32);
            assertThrows(IllegalArgumentException.class, () -> DeviceArrays.cast(a, DataType.BFLOAT16));
            assertSame(a, DeviceArrays.cast(a, DataType.FLOAT32));
        }
    }

    /** toHost copies the row-major values, also of a transposed (non-contiguous) view and of float16, into a buffer of the right length. */
    @Test
    void toHostCopiesRowMajorValuesIntoTheBufferWhenItFits() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = DeviceArrays.floats(m, new float[] {1, 2, 3, -4.5f, 5, 6}, new Shape(2, 3));
            float[] reuse = new float[6];
            assertSame(reuse, DeviceArrays.toHost(a, reuse));
            assertArrayEquals(new float[] {1, 2, 3, -4.5f, 5, 6}, reuse);
            // the transpose is [[1, -4.5], [2, 5], [3, 6]]: a view with other strides
            float[] t = DeviceArrays.toHost(a.transpose(), new float[5]);
            assertArrayEquals(new float[] {1, -4.5f, 2, 5, 3, 6}, t);
            assertArrayEquals(new float[] {1, 2, 3, -4.5f, 5, 6}, DeviceArrays.toHost(DeviceArrays.cast(a, DataType.FLOAT16), null));
        }
    }

    /** libtorch's JNI has no 16-bit integers (nor wider unsigned ones): they would abort the JVM too. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"INT16", "UINT16", "UINT32", "UINT64"})
    void theGuardRefusesTheIntegerTypesLibtorchsJniLacks(DataType type) {
        assertEquals("refusing to create a " + type + " NDArray: DJL's PyTorch engine aborts the JVM on it; this is a bug"
                + " in layerscope, please report it", assertThrows(IllegalArgumentException.class,
                () -> DeviceArrays.checked(type)).getMessage());
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            assertThrows(IllegalArgumentException.class, () -> DeviceArrays.wrap(m, ByteBuffer.allocateDirect(8), new Shape(4), type));
        }
        assertEquals(DataType.UINT8, DeviceArrays.checked(DataType.UINT8));
        assertEquals(DataType.INT32, DeviceArrays.checked(DataType.INT32));
    }

    /**
     * Every NDArray creation or cast in the llama package's main code goes through DeviceArrays, so
     * the guard above sees every type DJL is given.
     */
    @Test
    void aBlockOfAHeapMatrixIsCopiedContiguously() {
        // a 5 x 7 row-major matrix whose entry (r, c) is 10 r + c; its rows 1..3, columns 2..5
        double[] m = new double[5 * 7];
        for (int r = 0; r < 5; r++) {
            for (int c = 0; c < 7; c++) {
                m[r * 7 + c] = 10 * r + c;
            }
        }
        try (NDManager nd = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray block = DeviceArrays.doublesBlock(nd, m, 7, 1, 4, 2, 6);
            assertEquals(new Shape(3, 4), block.getShape());
            assertEquals(DataType.FLOAT64, block.getDataType());
            assertArrayEquals(new double[] {12, 13, 14, 15, 22, 23, 24, 25, 32, 33, 34, 35}, block.toDoubleArray());
            NDArray lastColumn = DeviceArrays.doublesBlock(nd, m, 7, 0, 5, 6, 7);
            assertArrayEquals(new double[] {6, 16, 26, 36, 46}, lastColumn.toDoubleArray());
        }
    }

    @Test
    void noOtherClassCreatesOrCastsNdArrays() throws IOException {
        Path dir = Path.of(System.getProperty("layerscope.repo", ".")).resolve("src/main/java/io/layerscope/llama");
        Pattern direct = Pattern.compile(
                "(?<!DeviceArrays)\\.(create|zeros|ones|full|arange|toType|randomNormal|randomUniform)\\(|DataType\\.BFLOAT16");
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (f.getFileName().toString().equals("DeviceArrays.java")) {
                    continue;
                }
                Matcher m = direct.matcher(Files.readString(f));
                while (m.find()) {
                    offenders.add(f.getFileName() + ": " + m.group());
                }
            }
        }
        assertTrue(offenders.isEmpty(), "create/cast outside DeviceArrays: " + offenders);
    }
}
