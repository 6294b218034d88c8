package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.spark.SweepHook;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster whose forward tasks take two cores each (spark.task.cpus 2 on a 2-core executor, as the
 * GPU profile's tasks take a whole GPU): stage one runs one task at a time per executor, and stage two,
 * asking one core per task through Spark's stage-level scheduling, runs two at once, with the same results;
 * so do the per-layer tasks of sequential mode's rounds.
 */
class StageTwoSlotsIT {
    @TempDir
    static Path tmp;

    @Test
    void stageTwoRunsALayerPerCoreWhereAForwardTaskTakesTwo() throws Exception {
        ExecutorService starter = Executors.newSingleThreadExecutor();
        Future<StandaloneCluster> starting = starter.submit(() -> StandaloneCluster.start(tmp.resolve("cluster"), 1, 2));
        starter.shutdown();
        SweepResults local;
        try {
            local = ReferenceSweep.results();
            ReferenceSweep.sequentialResults();
        } catch (RuntimeException | Error e) {
            starting.get(4, TimeUnit.MINUTES).close();   // its processes would outlive this JVM
            throw e;
        }
        try (StandaloneCluster cluster = starting.get(4, TimeUnit.MINUTES)) {
            try {
                sweepOn(cluster, local);
            } finally {
                TestSessions.stop();
            }
        }
    }

    private static void sweepOn(StandaloneCluster cluster, SweepResults local) throws Exception {
        Path spans = tmp.resolve("spans.txt");
        SparkSession spark = TestSessions.start(cluster.masterUrl(), Map.of(
                TaskSpans.CONF, spans.toString(),
                "spark.executor.memory", "1g",
                "spark.executor.extraJavaOptions", "-Dai.djl.offline=true -Djava.awt.headless=true",
                "spark.executor.cores", "2",
                "spark.task.cpus", "2",
                "spark.cores.max", "2",
                "spark.scheduler.minRegisteredResourcesRatio", "1.0",
                "spark.scheduler.maxRegisteredResourcesWaitingTime", "180s"));
        spark.sparkContext().setLocalProperty(SweepHook.CONF, TaskSpans.class.getName());
        Path out = tmp.resolve("run");
        Cli.Run r = Cli.run(ReferenceSweep.args(out));
        assertEquals(0, r.status(), r.err());
        assertEquals(1, TaskSpans.most(spans, "calibration"), Files.readString(spans));
        assertEquals(2, TaskSpans.most(spans, "layer"), Files.readString(spans));
        SweepResults.assertSame(local, SweepResults.read(out), 1e-6);
        SweepResults.assertNoLeftovers(out);

        // sequential mode's per-layer tasks of each round likewise, between its block passes (a pass task
        // runs its input's pass too when that is not stored, so their spans nest: not counted here)
        Files.delete(spans);
        Path sequential = tmp.resolve("sequential");
        Cli.Run seq = Cli.run(ReferenceSweep.args(sequential, "--mode", "sequential"));
        assertEquals(0, seq.status(), seq.err());
        assertEquals(2, TaskSpans.most(spans, "layer"), Files.readString(spans));
        SweepResults.assertSame(ReferenceSweep.sequentialResults(), SweepResults.read(sequential), 1e-6);
    }
}
