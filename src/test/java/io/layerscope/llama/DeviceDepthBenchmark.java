package io.layerscope.llama;

import ai.djl.Device;
import io.layerscope.bench.BenchWorkload;
import io.layerscope.model.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The time stage one's forward spends feeding the depth statistics, host scans ({@link DepthAccumulator})
 * against device reductions ({@link DeviceDepthAccumulator}), both on CPU libtorch, in alternating
 * rounds of one JVM: the device figure is what a GPU's reductions cost when run on these cores, for the
 * estimate in docs/PERFORMANCE.md. Tagged {@code benchmark}; run through {@link #main}:
 * <pre>
 * OMP_WAIT_POLICY=PASSIVE java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 \
 *     -cp target/test-classes:target/classes:$(cat target/test.classpath) \
 *     io.layerscope.llama.DeviceDepthBenchmark MODEL_DIR [rounds] [windows] [tokens]
 * </pre>
 */
@Tag("benchmark")
final class DeviceDepthBenchmark {
    private DeviceDepthBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Checkpoint ckpt = Checkpoint.open(Path.of(args[0]));
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 256;
        List<int[]> windows = BenchWorkload.randomWindows(count, tokens);
        int[] samples = new int[count];
        for (int s = 0; s < count; s++) {
            samples[s] = s;
        }
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            model.forward(windows.subList(0, 1), new int[] {0}, 1, model.tapKeys(), true, List.of());   // warm-up
            for (int r = 0; r < rounds; r++) {
                for (boolean device : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    model.depthOnDevice(device);
                    double before = model.depthStatisticsSeconds();
                    long t = System.nanoTime();
                    model.forward(windows, samples, 1, model.tapKeys(), true, List.of());
                    double pass = (System.nanoTime() - t) / 1e9;
                    double inside = model.depthStatisticsSeconds() - before;
                    System.out.printf("round %d %-6s pass %.2f s, depth statistics %.2f s = %.3f ms per token%n", r,
                            device ? "device" : "host", pass, inside, 1e3 * inside / ((long) count * tokens));
                }
            }
        }
    }
}
