package io.layerscope.llama;

import io.layerscope.FileTrees;
import io.layerscope.bench.BenchWorkload;
import io.layerscope.bench.DepthOverhead;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stage one's forward without and with the depth statistics ({@link DepthOverhead}: alternating
 * rounds in one JVM) on jobs/bench's models with random token windows of 256: the mid-size one
 * (16 windows) or, with {@code 1b}, the Llama-3.2-1B-shaped one (random bf16 weights, 2.47 GB
 * written first; about 9 GB resident, so run it under the shared benchmark lock). Tagged
 * {@code benchmark} (excluded from surefire); run through {@link #main}:
 * <pre>
 * mvn -o -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath
 * OMP_WAIT_POLICY=PASSIVE java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 \
 *     -cp target/test-classes:target/classes:$(cat target/test.classpath) \
 *     io.layerscope.llama.DepthOverheadBenchmark [mid|1b] [rounds] [windows] [model directory]
 * </pre>
 * Defaults: mid, 5 rounds, 16 windows (1b: 3 rounds, 4 windows). A model directory that already
 * holds a config.json is used as it is (so the 1B-shaped model is written once), any other is
 * written and kept; without one, a temporary directory is written and deleted.
 */
@Tag("benchmark")
class DepthOverheadBenchmark {
    @Test
    void midSizedModel() throws Exception {
        main(new String[] {"mid"});
    }

    public static void main(String[] args) throws Exception {
        boolean big = args.length > 0 && args[0].equals("1b");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : big ? 3 : 5;
        int count = args.length > 2 ? Integer.parseInt(args[2]) : big ? 4 : 16;
        Path dir = args.length > 3 ? Path.of(args[3]) : Files.createTempDirectory("layerscope-depth-bench");
        try {
            if (!Files.isRegularFile(dir.resolve("config.json"))) {
                SyntheticLlama model = big ? BenchWorkload.llama1bShapedModel() : BenchWorkload.midSizeModel();
                System.err.println("writing the " + (big ? "Llama-3.2-1B-shaped" : "mid-size") + " model into " + dir);
                model.write(dir);
            }
            List<int[]> windows = BenchWorkload.randomWindows(count, 256);
            System.out.println(DepthOverhead.measure(dir, windows, rounds, System.err).toPrettyString());
        } finally {
            if (args.length <= 3) {
                FileTrees.deleteRecursively(dir);
            }
        }
    }
}
