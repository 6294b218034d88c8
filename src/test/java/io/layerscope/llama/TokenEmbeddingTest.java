package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Embedding rows looked up by {@link TokenEmbedding} against the rows of the decoded table, bit for bit. */
class TokenEmbeddingTest {
    private static final String EMBED = "model.embed_tokens.weight";

    @TempDir
    Path tmp;

    /**
     * First, last and repeated ids, with the stored table in mappings of 5 rows (so lookups cross
     * mappings), kept as stored on the host route and an array on the device route.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"})
    void rowsAreTheDecodedRowsOfTheTable(DType dtype) {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(dtype).write(tmp.resolve("m")));
        int hidden = ckpt.config().hiddenSize();
        float[] table = ckpt.readFloats(EMBED);
        long[] ids = {0, 63, 5, 4, 5, 17, 63, 0};
        Shape shape = new Shape(2, 4, hidden);
        for (boolean onDevice : new boolean[] {false, true}) {
            try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
                TokenEmbedding embedding;
                try (WeightReader weights = new WeightReader(m, ckpt, DataType.FLOAT32,
                        new WeightReader.Options(1, false, onDevice, 1L << 20))) {
                    embedding = TokenEmbedding.load(weights, ckpt, EMBED, 5 * hidden * dtype.bytes());
                }
                assertEquals(onDevice || dtype == DType.F32, embedding.isArray(), "kept as stored on the host route");
                assertEquals(embedding.isArray() ? 1 : 0, m.getManagedArrays().size());
                try (NDManager batch = m.newSubManager()) {
                    NDArray rows = embedding.rows(batch, ids, shape);
                    assertEquals(shape, rows.getShape());
                    assertEquals(DataType.FLOAT32, rows.getDataType());
                    float[] got = rows.toFloatArray();
                    for (int i = 0; i < ids.length; i++) {
                        int id = (int) ids[i];
                        assertArrayEquals(WeightReaderTest.bits(Arrays.copyOfRange(table, id * hidden, (id + 1) * hidden)),
                                WeightReaderTest.bits(Arrays.copyOfRange(got, i * hidden, (i + 1) * hidden)),
                                dtype + (onDevice ? " on the device route" : " on the host route") + ", id " + id);
                    }
                }
            }
        }
    }
}
