package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.spark.FaultInjection;
import io.layerscope.spark.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing tasks, injected by the tests' {@link FaultInjection} hook: with retries
 * ({@code local[2,4]}: 2 threads, 4 attempts per task) a failed calibration task and a failed layer
 * task are recomputed and the results equal a clean run; without retries, or when the driver fails
 * after stage one, the job fails with a short message and leaves no results directory.
 */
class TaskRetryIT {
    @TempDir
    Path tmp;

    @AfterAll
    static void releaseSession() {
        TestSessions.stop();
    }

    /** Failed task attempts per stage, in the order they ended. */
    static final class Failures extends SparkListener {
        final List<String> failed = new CopyOnWriteArrayList<>();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.reason() instanceof ExceptionFailure f) {
                failed.add("stage " + end.stageId() + " partition " + end.taskInfo().index() + " attempt "
                        + end.taskInfo().attemptNumber() + ": " + f.description());
            }
        }
    }

    private static Failures listen(SparkSession spark) {
        Failures f = new Failures();
        spark.sparkContext().addSparkListener(f);
        return f;
    }

    @Test
    void aFailedCalibrationTaskAndAFailedLayerTaskAreRetriedAndTheResultsDoNotChange() throws Exception {
        SweepResults clean = ReferenceSweep.results();
        SparkSession spark = TestSessions.start("local[2,4]", FaultInjection.conf("calibration-task,layer-task"));
        Failures failures = listen(spark);
        Path out = tmp.resolve("retried");
        Cli.Run r = Cli.run(ReferenceSweep.args(out));
        spark.sparkContext().listenerBus().waitUntilEmpty();
        assertEquals(0, r.status(), r.err());
        // one failed attempt in each stage (partition 0, attempt 0), then success
        assertEquals(2, failures.failed.size(), failures.failed.toString());
        assertTrue(failures.failed.get(0).matches("stage \\d+ partition 0 attempt 0: injected fault: calibration-task \\(test only\\)"),
                failures.failed.toString());
        assertTrue(failures.failed.get(1).matches("stage \\d+ partition 0 attempt 0: injected fault: layer-task \\(test only\\)"),
                failures.failed.toString());
        SweepResults.assertSame(clean, SweepResults.read(out), 0);
        SweepResults.assertNoLeftovers(out);
        // run.json and the report's header say so, naming each attempt as the listener saw it
        List<String> recorded = RunRecord.read(out).taskAttemptsFailed();
        assertEquals(2, recorded.size(), String.valueOf(recorded));
        for (int k = 0; k < 2; k++) {
            String seen = failures.failed.get(k);
            String stage = seen.substring(0, seen.indexOf(" partition"));
            assertTrue(recorded.get(k).matches(stage + " task 0 attempt 0 on executor driver: java.lang.IllegalStateException:"
                    + " injected fault: " + (k == 0 ? "calibration" : "layer") + "-task \\(test only\\)"), recorded.get(k));
        }
        assertTrue(Files.readString(out.resolve("index.html")).contains("2 attempts (Spark ran them again;"));
    }

    @Test
    void withoutRetriesAFailedTaskFailsTheJobWithOneLineAndNoResultsDirectory() throws Exception {
        TestSessions.start("local[2]", FaultInjection.conf("layer-task"));
        Path out = tmp.resolve("failed");
        Cli.Run r = Cli.run(ReferenceSweep.args(out));
        assertEquals(1, r.status(), r.err());
        assertEquals("", r.out());
        // Spark's message names the task and the cause; the stack traces it carries are left to --verbose
        assertTrue(r.err().matches("error: unexpected org\\.apache\\.spark\\.SparkException: Job aborted due to stage"
                + " failure: Task 0 in stage \\d+\\.0 failed 1 times, most recent failure: Lost task 0\\.0 in stage \\d+\\.0"
                + " \\(TID \\d+\\) \\(\\S+ executor driver\\): java\\.lang\\.IllegalStateException: injected fault: layer-task"
                + " \\(test only\\) \\(run with --verbose for the stack trace\\)\n"), r.err());
        assertFalse(Files.exists(out));
        SweepResults.assertNoLeftovers(out);
    }

    /** A sweep with {@code faults} switched on, which must fail with status 2 and leave nothing; its standard error. */
    private String outOfHeap(String faults, Path out, String... more) throws Exception {
        TestSessions.start("local[2]", FaultInjection.conf(faults));
        Cli.Run r = Cli.run(ReferenceSweep.args(out, more));
        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(out));
        SweepResults.assertNoLeftovers(out);
        return r.err();
    }

    @Test
    void aTaskOutOfHeapFailsTheJobWithTheRemedyAndNoResultsDirectory() throws Exception {
        // the JVM goes on (Spark's handler would have ended it); the message says what to change
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        assertEquals("error: the Java heap (" + mib + " MiB) ran out in stage two; give the driver more heap (local mode"
                + " runs the tasks in the driver's JVM): --driver-memory, e.g. --driver-memory " + ((2 * mib + 1023) / 1024)
                + "g, or run fewer tasks at once (--master local[N]); docs/CLUSTER.md (executor memory) says what a model"
                + " needs\n", outOfHeap("layer-heap", tmp.resolve("out-of-heap")));
    }

    @Test
    void aSequentialPassOrRoundOutOfHeapNamesIt() throws Exception {
        String heap = "error: the Java heap (" + (Runtime.getRuntime().maxMemory() >> 20) + " MiB) ran out in ";
        String err = outOfHeap("sequential-heap", tmp.resolve("pass"), "--mode", "sequential");
        assertTrue(err.startsWith(heap + "a block pass of --mode sequential; give the driver more heap"), err);
        // a layer task of the first round: the masks of block 0
        err = outOfHeap("layer-heap", tmp.resolve("round"), "--mode", "sequential");
        assertTrue(err.startsWith(heap + "the pruning round of block 0; give the driver more heap"), err);
    }

    @Test
    void theDriverOutOfHeapSaysSoAndLeavesNoResultsDirectory() throws Exception {
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        String expected = "error: the driver's Java heap (" + mib + " MiB) ran out in the sweep command; give the driver"
                + " more heap: --driver-memory, e.g. --driver-memory " + ((2 * mib + 1023) / 1024) + "g\n";
        assertEquals(expected, outOfHeap("driver-heap", tmp.resolve("driver-out-of-heap")));
        // the same when another thread of the driver's ran out and the command's thread sees it as a cause
        assertEquals(expected, outOfHeap("driver-heap-elsewhere", tmp.resolve("driver-out-of-heap-elsewhere")));
    }

    @Test
    void aDriverFailureAfterStageOneLeavesNoResultsDirectory() throws Exception {
        TestSessions.start("local[2]", FaultInjection.conf("after-calibration"));
        Path out = tmp.resolve("driver-failed");
        Cli.Run r = Cli.run(ReferenceSweep.args(out));
        assertEquals(1, r.status(), r.err());
        assertEquals("error: unexpected java.lang.IllegalStateException: injected fault: after-calibration (test only)"
                + " (run with --verbose for the stack trace)\n", r.err());
        assertFalse(Files.exists(out));
        SweepResults.assertNoLeftovers(out);
    }
}
