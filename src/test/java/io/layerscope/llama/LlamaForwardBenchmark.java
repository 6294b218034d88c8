package io.layerscope.llama;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tokens per second of the forward pass with taps, float32 on the CPU, 8 samples x 256 tokens, at
 * batch sizes 1 and 4. Tagged {@code benchmark}, which the pom excludes from every surefire run, so
 * run it through {@link #main} (optionally with {@code demo} or {@code mid}):
 * <pre>
 * mvn -o -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath
 * OMP_WAIT_POLICY=PASSIVE java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 \
 *     -cp target/test-classes:target/classes:$(cat target/test.classpath) io.layerscope.llama.LlamaForwardBenchmark
 * </pre>
 * On a machine with more runnable threads than cores, libgomp's default spin-waiting makes every
 * parallel region wait for a descheduled thread; {@code OMP_WAIT_POLICY=PASSIVE} avoids that.
 */
@Tag("benchmark")
class LlamaForwardBenchmark {
    private static final int SAMPLES = 8;
    private static final int TOKENS = 256;

    @Test
    void demoSizedModel() throws Exception {
        run("demo-like (hidden 64, 2 layers, vocab 512)",
                SyntheticLlama.builder().hidden(64).intermediate(176).layers(2).heads(4).kvHeads(2).vocab(512));
    }

    @Test
    void midSizedModel() throws Exception {
        run("mid-size (hidden 512, 8 layers, 8/2 heads, intermediate 1408, vocab 128256, bf16)",
                MidSizeBenchModel.shape());
    }

    static void run(String label, SyntheticLlama builder) throws Exception {
        Path dir = Files.createTempDirectory("layerscope-bench");
        try {
            long t0 = System.nanoTime();
            Checkpoint ckpt = Checkpoint.open(builder.write(dir));
            long t1 = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(1);
            int vocab = ckpt.config().vocabSize();
            List<int[]> windows = java.util.stream.IntStream.range(0, SAMPLES)
                    .mapToObj(i -> rnd.ints(TOKENS, 0, vocab).toArray()).toList();
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
                long t2 = System.nanoTime();
                model.forward(windows.subList(0, 1));
                for (int batch : new int[] {1, 4}) {
                    long s = System.nanoTime();
                    TapSums sums = model.forward(windows, batch);
                    double secs = (System.nanoTime() - s) / 1e9;
                    double tokens = sums.ntokens();
                    System.out.printf("%s, batch %d: %.0f tokens/s (%.2f s for %d x %d tokens, %.1f GFLOP/s of matmul)%n",
                            label, batch, tokens / secs, secs, SAMPLES, TOKENS, matmulFlops(model.config(), TOKENS) * SAMPLES / secs / 1e9);
                }
                System.out.printf("%s: wrote checkpoint in %.1f s, loaded in %.1f s; threads %s%n", label,
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9, System.getProperty("ai.djl.pytorch.num_threads", "default"));
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Multiply-adds x 2 of one sequence: the seven projections plus the two attention matmuls (full T x T). */
    static double matmulFlops(LlamaConfig c, int t) {
        double h = c.hiddenSize();
        double perToken = h * c.qDim() * 2 + h * c.kvDim() * 2 + 3 * h * c.intermediateSize();
        double attention = 2.0 * c.numAttentionHeads() * c.headDim() * t;
        return 2 * t * (perToken + attention) * c.numHiddenLayers();
    }

    /** Runs both benchmarks, or only {@code demo} or {@code mid} when named. */
    public static void main(String[] args) throws Exception {
        String only = args.length > 0 ? args[0] : "";
        if (!only.equals("mid")) {
            new LlamaForwardBenchmark().demoSizedModel();
        }
        if (!only.equals("demo")) {
            new LlamaForwardBenchmark().midSizedModel();
        }
    }
}
