package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.stats.GramSums;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gram passes chained through kept states (--gram's passes after the first): the same matrices, to
 * the bit, as passes from the embedding, with every block run once over all passes.
 */
class GramPassStatesTest {
    @TempDir
    static Path tmp;
    static Checkpoint ckpt;
    /** Batches of 2 (windows 0-1, 2, 3-4: the 14-token window makes its own batch). */
    static final List<int[]> WINDOWS = List.of(TinyModels.windows(1, 9, 5).get(0), TinyModels.windows(1, 9, 6).get(0),
            TinyModels.windows(1, 14, 7).get(0), TinyModels.windows(1, 9, 8).get(0), TinyModels.windows(1, 9, 9).get(0));
    /** Four passes: the first block's taps, blocks 1-2, block 3, the final norm (lm_head). */
    static final List<List<String>> PASSES = List.of(List.of("0/ATTN_IN", "0/MLP_ACT"), List.of("1/ATTN_OUT", "2/MLP_IN"),
            List.of("3/MLP_IN", "3/MLP_ACT"), List.of("final/FINAL_NORM"));
    static final int[] STARTS = {0, 1, 3, 4};

    @BeforeAll
    static void writeModel() {
        ckpt = Checkpoint.open(TinyModels.gqa(DType.F32).layers(4).write(tmp.resolve("four")));
    }

    @Test
    void passesFromKeptStatesGiveTheMatricesOfPassesFromTheEmbeddingAndRunEachBlockOnce() {
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            // two 9-token windows of hidden 32 per group: the batches go through the blocks in two groups
            model.groupBytes(2L * 9 * 32 * Float.BYTES);
            List<GramSums> scratch = new ArrayList<>();
            long before = model.blocksRun();
            for (List<String> taps : PASSES) {
                scratch.add(model.forwardGrams(WINDOWS, 2, taps));
            }
            assertEquals(3 * (1 + 3 + 4 + 4), model.blocksRun() - before, "each pass from block 0");

            List<HiddenStates> kept = null;
            before = model.blocksRun();
            for (int p = 0; p < PASSES.size(); p++) {
                LlamaModel.Resume from = kept == null ? null : new LlamaModel.Resume(STARTS[p], kept.iterator());
                List<HiddenStates> next = new ArrayList<>();
                LlamaModel.Keep keep = p + 1 < PASSES.size() ? new LlamaModel.Keep(STARTS[p + 1], next::add) : null;
                GramSums grams = model.forwardGrams(WINDOWS, 2, PASSES.get(p), from, keep, null);
                assertEquals(scratch.get(p).keys(), grams.keys());
                for (String key : PASSES.get(p)) {
                    assertArrayEquals(scratch.get(p).matrix(key), grams.matrix(key), "pass " + p + " " + key);
                }
                assertEquals(WINDOWS.size(), grams.nsamples());
                kept = next;
                if (keep != null) {
                    assertEquals(List.of(0, 2, 3), next.stream().map(HiddenStates::firstSample).toList());
                }
            }
            assertEquals(3 * 4, model.blocksRun() - before, "3 batches through each of 4 blocks once");
        }
    }

    @Test
    void keptStatesAreTheResidualStreamEnteringTheBlock() {
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            List<HiddenStates> kept = new ArrayList<>();
            model.forwardGrams(WINDOWS, 2, List.of("0/ATTN_IN"), null, new LlamaModel.Keep(2, kept::add), null);
            assertEquals(3, kept.size());
            HiddenStates lone = kept.get(1);
            assertEquals(1, lone.sequences());
            assertEquals(14, lone.tokens());
            // window 2 alone: its own forward's stream after block 1 (positionStreams' "residual/2")
            float[] expected = model.positionStreams(WINDOWS.get(2)).get("residual/2");
            assertArrayEquals(expected, lone.floats());
        }
    }

    @Test
    void keptStatesThatDoNotFitThePassAreRefused() {
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            List<HiddenStates> kept = new ArrayList<>();
            model.forwardGrams(WINDOWS, 2, List.of("0/ATTN_IN"), null, new LlamaModel.Keep(1, kept::add), null);
            // batches of 1 where the states were kept in batches of 2
            IllegalStateException batches = assertThrows(IllegalStateException.class, () -> model.forwardGrams(WINDOWS, 1,
                    List.of("1/MLP_IN"), new LlamaModel.Resume(1, kept.iterator()), null, null));
            assertEquals("kept states of windows 0..1 (9 tokens) where the batch is windows 0..0 (9 tokens)",
                    batches.getMessage());
            IllegalStateException fewer = assertThrows(IllegalStateException.class, () -> model.forwardGrams(WINDOWS, 2,
                    List.of("1/MLP_IN"), new LlamaModel.Resume(1, kept.subList(0, 2).iterator()), null, null));
            assertEquals("no kept states for windows 3..4", fewer.getMessage());
            IllegalArgumentException early = assertThrows(IllegalArgumentException.class, () -> model.forwardGrams(WINDOWS,
                    2, List.of("0/MLP_ACT", "1/MLP_IN"), new LlamaModel.Resume(1, kept.iterator()), null, null));
            assertEquals("tap 0/MLP_ACT comes before block 1, where the pass resumes", early.getMessage());
            IllegalArgumentException back = assertThrows(IllegalArgumentException.class, () -> model.forwardGrams(WINDOWS,
                    2, List.of("1/MLP_IN"), new LlamaModel.Resume(1, kept.iterator()), new LlamaModel.Keep(0, s -> { }), null));
            assertEquals("cannot keep the input of block 0 in a pass from block 1 (blocks 0..3 loaded)", back.getMessage());
        }
    }
}
