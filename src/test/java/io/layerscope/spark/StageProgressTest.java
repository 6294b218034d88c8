package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

class StageProgressTest {

    private static PrintStream printingTo(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    /** A heartbeat with no task values: enough to make the listener consider a progress line. */
    private static SparkListenerExecutorMetricsUpdate heartbeat() {
        return new SparkListenerExecutorMetricsUpdate("1", scala.collection.immutable.List$.MODULE$.empty(),
                scala.collection.immutable.Map$.MODULE$.empty());
    }

    /** A cluster that has given the job no executor for a minute: once, what to check; never where one runs or nothing is known. */
    @Test
    void noExecutorForAMinuteGetsAHint() {
        assertEquals("calibration forward: no executor has registered in 61 s; the job waits for one: check that a"
                        + " Worker (or the cluster manager) can give an executor --executor-memory and --executor-cores,"
                        + " and that executors start (a Worker's work directory holds their stderr)",
                StageProgress.noExecutorHint("calibration forward", 61.2, 0).orElseThrow());
        assertTrue(StageProgress.noExecutorHint("x", 59.9, 0).isEmpty(), "before a minute");
        assertTrue(StageProgress.noExecutorHint("x", 600, 1).isEmpty(), "one registered");
        assertTrue(StageProgress.noExecutorHint("x", 600, -1).isEmpty(), "not known");
    }

    /**
     * Spark's listener bus delivers events late, after the job has ended and the summary is out:
     * a progress line must never follow "(done)".
     */
    @Test
    void nothingIsPrintedAfterTheSummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = printingTo(bytes);
        StageProgress p = new StageProgress("sequential rounds", "sample passes", 8, new LongAccumulator(), null, err);
        p.finish();
        // a first heartbeat prints at once (no line for two seconds before it): this one must not
        p.onExecutorMetricsUpdate(heartbeat());
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("sequential rounds: 8/8 sample passes, \\d+\\.\\d s \\(done\\)"), lines.get(0));
    }

    @Test
    void aFirstHeartbeatPrintsAtOnce() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = printingTo(bytes);
        StageProgress p = new StageProgress("calibration forward", "samples", 8, new LongAccumulator(), null, err);
        p.onExecutorMetricsUpdate(heartbeat());
        p.onExecutorMetricsUpdate(heartbeat());   // within two seconds of the first: held back
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("calibration forward: 0/8 samples, \\d+\\.\\d s"), lines.get(0));
    }

    /**
     * Once every unit is counted the summary usually comes next with the same figures: no progress line
     * repeats it (unless the stage goes on for ten seconds more, a line then proving it alive).
     */
    @Test
    void nothingIsPrintedOnceAllIsDoneButTheSummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = printingTo(bytes);
        StageProgress p = new StageProgress("layer statistics", "layers", 0, new LongAccumulator(), null, err);
        p.onExecutorMetricsUpdate(heartbeat());
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
        p.finish();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("layer statistics: 0/0 layers, \\d+\\.\\d s \\(done\\)"), lines.get(0));
    }
}
