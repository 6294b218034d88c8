package io.layerscope.llama;

import io.layerscope.bench.BenchWorkload;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * --gram's pass (the forward with every tap's Gram matrix) against stage one's forward with the tap
 * sums (docs/PERFORMANCE.md), on the
 * benchmark's mid-size model (hidden 512, 8 layers, intermediate 1408, bf16 weights computed in
 * float32), 16 x 256 tokens, one sequence per forward, every tap summed. Rounds alternate the two so
 * that both see the same load on a shared machine. Run as {@link LlamaForwardBenchmark} says, with
 * this class's name (optional argument: rounds, default 5).
 */
@Tag("benchmark")
class GramForwardBenchmark {
    private static final int SAMPLES = 16;
    private static final int TOKENS = 256;

    @Test
    void midSizedModel() throws Exception {
        run(5);
    }

    static void run(int rounds) throws Exception {
        try (MidSizeBenchModel m = MidSizeBenchModel.write()) {
            List<int[]> windows = BenchWorkload.randomWindows(SAMPLES, TOKENS);
            double[] plain = new double[rounds];
            double[] depth = new double[rounds];
            try (LlamaModel model = m.load()) {
                List<String> taps = model.tapKeys();
                for (int w = 1; w <= 4; w *= 2) {    // warm-up, both paths
                    long s = System.nanoTime();
                    model.forwardGrams(windows.subList(0, w), 1, taps);
                    System.out.printf("warm-up: Gram matrices of %d windows %.3f s%n", w, (System.nanoTime() - s) / 1e9);
                }
                model.forward(windows.subList(0, 2), 1, taps);
                for (int r = 0; r < rounds; r++) {
                    long s = System.nanoTime();
                    model.forward(windows, 1, taps);
                    plain[r] = (System.nanoTime() - s) / 1e9;
                    s = System.nanoTime();
                    model.forwardGrams(windows, 1, taps);
                    depth[r] = (System.nanoTime() - s) / 1e9;
                    System.out.printf("round %d: tap sums %.3f s, Gram matrices %.3f s (x%.2f)%n", r + 1, plain[r],
                            depth[r], depth[r] / plain[r]);
                }
            }
            Arrays.sort(plain);
            Arrays.sort(depth);
            System.out.printf("median of %d rounds: tap sums %.3f s, Gram matrices %.3f s (x%.2f); best: %.3f vs %.3f s"
                    + " (x%.2f); threads %s%n", rounds, plain[rounds / 2], depth[rounds / 2], depth[rounds / 2] / plain[rounds / 2],
                    plain[0], depth[0], depth[0] / plain[0], System.getProperty("ai.djl.pytorch.num_threads", "default"));
        }
    }

    public static void main(String[] args) throws Exception {
        run(args.length > 0 ? Integer.parseInt(args[0]) : 5);
    }
}
