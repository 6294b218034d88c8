package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

/** Executors without layerscope's classes, as Spark 4.2 reports the job they failed (seen on a standalone cluster). */
class MissingExecutorJarTest {
    static final String EXPLAINED = "the executors cannot load layerscope's classes (%s is not on their class path):"
            + " they lack the application jar. With LAYERSCOPE_EXECUTOR_JAR=none each executor's class path must hold it"
            + " (the nodes' $SPARK_HOME/jars, or spark.executor.extraClassPath); with local or local:/PATH the path must"
            + " exist on every node; left unset, submit.sh sends the jar with the job (docs/CLUSTER.md)";

    @Test
    void aClassOfOursMissingOnAnExecutorIsExplained() {
        Exception spark = new Exception("Job aborted due to stage failure: Task 1 in stage 1.0 failed 4 times, most recent"
                + " failure: Lost task 1.3 in stage 1.0 (TID 14) (127.0.0.1 executor 0): java.io.IOException:"
                + " java.lang.ClassNotFoundException: io.layerscope.spark.CalibrationStage$Window\n\tat org.apache.spark");
        RuntimeException wrapped = new RuntimeException("stage one", spark);
        LayerscopeException e = MissingExecutorJar.explain(wrapped);
        assertEquals(String.format(EXPLAINED, "io.layerscope.spark.CalibrationStage$Window"), e.getMessage());
        assertSame(wrapped, e.getCause());
        // the JVM names a class it could not define with slashes
        assertEquals(String.format(EXPLAINED, "io.layerscope.llama.LlamaModel"), MissingExecutorJar.explain(new Exception(
                "Job aborted due to stage failure: Lost task 0.3 in stage 2.0 (TID 9) (n1 executor 3):"
                        + " java.lang.NoClassDefFoundError: io/layerscope/llama/LlamaModel")).getMessage());
    }

    @Test
    void otherFailuresAreNotThisOne() {
        assertNull(MissingExecutorJar.explain(new Exception("Job aborted due to stage failure: Task 0 failed 4 times")));
        assertNull(MissingExecutorJar.explain(new Exception((String) null)));
        // someone else's class, and one of ours missing in the driver itself
        assertNull(MissingExecutorJar.explain(new Exception("Lost task 0.0 in stage 0.0 (TID 0) (h executor 1):"
                + " java.lang.ClassNotFoundException: com.example.Udf")));
        assertNull(MissingExecutorJar.explain(new ClassNotFoundException("io.layerscope.spark.SweepJob")));
    }
}
