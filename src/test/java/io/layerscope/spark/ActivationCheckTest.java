package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.SyntheticLlama;
import io.layerscope.model.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver's check of scaler rows, as stage one and sequential mode's rounds call it. */
class ActivationCheckTest {
    private static final String O_PROJ = "model.layers.1.self_attn.o_proj";

    @TempDir
    Path tmp;

    private Checkpoint model() {
        return Checkpoint.open(SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2)
                .vocab(64).write(tmp.resolve("m")));
    }

    /** Block 0's rows healthy, block 1's o_proj input with {@code bad} at feature 3. */
    private static Map<String, float[]> rows(Checkpoint ckpt, float bad) {
        Map<String, float[]> rows = new LinkedHashMap<>();
        rows.put(ckpt.layer("model.layers.0.self_attn.o_proj").tapKey(), new float[32]);
        float[] row = new float[32];
        row[3] = bad;
        rows.put(ckpt.layer(O_PROJ).tapKey(), row);
        return rows;
    }

    @Test
    void theRoundsOfSequentialModeAreNamedAsTheirPassAndFloat16IsToldToWiden() {
        Checkpoint ckpt = model();
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> ActivationCheck.check(ckpt,
                ckpt.prunableLayers(), rows(ckpt, Float.POSITIVE_INFINITY), List.of("float16"), SequentialStage.PRUNED_PASS));
        assertEquals("scaler_row[3] of the input of " + O_PROJ + " is Infinity: sequential mode's forward pass through"
                + " the pruned blocks overflowed float16 (every weight it used is finite); rerun it with --dtype"
                + " float32.", e.getMessage());
        e = assertThrows(LayerscopeException.class, () -> ActivationCheck.check(ckpt, ckpt.prunableLayers(),
                rows(ckpt, Float.NaN), List.of("float32"), SequentialStage.PRUNED_PASS));
        assertEquals("scaler_row[3] of the input of " + O_PROJ + " is NaN: sequential mode's forward pass through the"
                + " pruned blocks in float32 overflowed although every weight it used is finite; weights this large do"
                + " not come from a trained model: check the checkpoint's source.", e.getMessage());
        ActivationCheck.check(ckpt, ckpt.prunableLayers(), rows(ckpt, 2f), List.of("float16"), SequentialStage.PRUNED_PASS);
    }

    @Test
    void aNonFiniteWeightBeforeTheTapIsNamed() throws IOException {
        Checkpoint ckpt = model();
        SafetensorsFile f = ckpt.fileOf("model.layers.1.self_attn.v_proj.weight");
        TensorInfo t = f.tensor("model.layers.1.self_attn.v_proj.weight");
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.WRITE)) {
            ByteBuffer nan = ByteBuffer.allocate(t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
            switch (t.dtype()) {
                case F32 -> nan.putInt(0x7fc00000);
                case BF16 -> nan.putShort((short) 0x7fc0);
                default -> throw new AssertionError(t.dtype());
            }
            // row 2, column 5 of [out, 32]
            ch.write(nan.flip(), t.begin() + (2L * 32 + 5) * t.dtype().bytes());
        }
        Checkpoint damaged = Checkpoint.open(ckpt.dir());
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> ActivationCheck.check(damaged,
                damaged.prunableLayers(), rows(damaged, Float.NaN), List.of("float16"), SequentialStage.PRUNED_PASS));
        assertEquals(f.path() + ": tensor model.layers.1.self_attn.v_proj.weight holds NaN at [2, 5], the first"
                + " non-finite weight sequential mode's forward pass through the pruned blocks used, so scaler_row[3] of"
                + " the input of " + O_PROJ + " is NaN. The checkpoint file is damaged or was saved from a diverged model:"
                + " download it again or check its source.", e.getMessage());
    }
}
