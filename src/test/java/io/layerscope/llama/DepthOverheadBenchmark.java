package io.layerscope.llama;

import ai.djl.Device;
import io.layerscope.FileTrees;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stage one's forward with and without the depth statistics (docs/PERFORMANCE.md), on the
 * benchmark's mid-size model (hidden 512, 8 layers, intermediate 1408, bf16 weights computed in
 * float32), 16 x 256 tokens, one sequence per forward, every tap summed. Rounds alternate the two so
 * that both see the same load on a shared machine. Run as {@link LlamaForwardBenchmark} says, with
 * this class's name (optional argument: rounds, default 5).
 */
@Tag("benchmark")
class DepthOverheadBenchmark {
    private static final int SAMPLES = 16;
    private static final int TOKENS = 256;

    @Test
    void midSizedModel() throws Exception {
        run(5);
    }

    static void run(int rounds) throws Exception {
        Path dir = Files.createTempDirectory("layerscope-bench");
        try {
            Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(512).intermediate(1408).layers(8).heads(8)
                    .kvHeads(2).vocab(128256).dtype(DType.BF16).write(dir));
            SplittableRandom rnd = new SplittableRandom(1);
            List<int[]> windows = IntStream.range(0, SAMPLES).mapToObj(i -> rnd.ints(TOKENS, 0, 128256).toArray()).toList();
            int[] samples = IntStream.range(0, SAMPLES).toArray();
            double[] plain = new double[rounds];
            double[] depth = new double[rounds];
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
                List<String> taps = model.tapKeys();
                model.forwardWithDepth(windows.subList(0, 2), new int[] {0, 1}, 1, taps);   // warm-up, both paths
                for (int r = 0; r < rounds; r++) {
                    long s = System.nanoTime();
                    model.forward(windows, 1, taps);
                    plain[r] = (System.nanoTime() - s) / 1e9;
                    s = System.nanoTime();
                    model.forwardWithDepth(windows, samples, 1, taps);
                    depth[r] = (System.nanoTime() - s) / 1e9;
                    System.out.printf("round %d: without %.3f s, with depth statistics %.3f s (%+.1f%%)%n", r + 1, plain[r],
                            depth[r], 100 * (depth[r] / plain[r] - 1));
                }
            }
            Arrays.sort(plain);
            Arrays.sort(depth);
            System.out.printf("median of %d rounds: without %.3f s, with %.3f s (%+.1f%%); best: %.3f vs %.3f s (%+.1f%%);"
                    + " threads %s%n", rounds, plain[rounds / 2], depth[rounds / 2], 100 * (depth[rounds / 2] / plain[rounds / 2] - 1),
                    plain[0], depth[0], 100 * (depth[0] / plain[0] - 1), System.getProperty("ai.djl.pytorch.num_threads", "default"));
        } finally {
            FileTrees.deleteRecursively(dir);
        }
    }

    public static void main(String[] args) throws Exception {
        run(args.length > 0 ? Integer.parseInt(args[0]) : 5);
    }
}
