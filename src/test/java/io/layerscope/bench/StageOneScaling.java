package io.layerscope.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.spark.CalibrationStage;
import io.layerscope.spark.ModelSpec;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Stage one alone (the calibration forward through Spark, exactly as a sweep runs it) with 1, 2
 * and 4 shards under each local master, in one JVM. The model stays loaded between runs (it is
 * cached per executor JVM, as in a sweep), so the times are the stage's own: task scheduling,
 * forward, result collection and merge. A first run per master warms up and is not counted.
 */
public final class StageOneScaling {
    private StageOneScaling() {
    }

    public static ObjectNode measure(BenchWorkload workload, List<String> masters, List<Integer> shardCounts, int repeat,
                                     PrintStream err) {
        List<int[]> windows = workload.windows();
        long tokens = windows.stream().mapToLong(w -> w.length).sum();
        Checkpoint ckpt = Checkpoint.open(workload.modelDir());
        LinkedHashSet<String> taps = new LinkedHashSet<>();
        ckpt.prunableLayers().forEach((PrunableLayer l) -> taps.add(l.tapKey()));
        ModelSpec spec = new ModelSpec(ckpt.dir().toAbsolutePath().toString(), ComputeDtype.AUTO,
                ckpt.config().numHiddenLayers() - 1, new ArrayList<>(taps), 1);
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("tokens", tokens);
        ArrayNode runs = out.putArray("runs");
        for (String master : masters) {
            SparkSession spark = SparkSession.builder().master(master).appName("layerscope bench stage one")
                    .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                    .getOrCreate();
            try {
                JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
                CalibrationStage.Result warm = CalibrationStage.run(jsc, spec, windows, jsc.defaultParallelism(), err);
                out.put("first_run_seconds_" + master, warm.seconds());
                for (int shards : shardCounts) {
                    ObjectNode run = runs.addObject();
                    run.put("master", master);
                    run.put("shards", shards);
                    ArrayNode secs = run.putArray("seconds");
                    double best = Double.MAX_VALUE;
                    for (int r = 0; r < repeat; r++) {
                        double s = CalibrationStage.run(jsc, spec, windows, shards, err).seconds();
                        secs.add(s);
                        best = Math.min(best, s);
                    }
                    run.put("tokens_per_second", tokens / best);
                    err.printf("bench stage one: %s, %d shards: %.0f tokens/s%n", master, shards, tokens / best);
                }
            } finally {
                spark.stop();
                SparkSession.clearActiveSession();
                SparkSession.clearDefaultSession();
            }
        }
        out.put("peak_rss_mib", PeakMemory.peakResidentMiB());
        out.put("load_average", PeakMemory.loadAverage());
        return out;
    }
}
