package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A job whose tasks failed on the executors because layerscope's own classes were not there, told
 * as what to change: the executors' class path lacks the application jar (LAYERSCOPE_EXECUTOR_JAR=none
 * on nodes that do not have it, say). Spark reports it as a job aborted once a task has failed as often
 * as spark.task.maxFailures allows, quoting the executor's ClassNotFoundException.
 */
public final class MissingExecutorJar {
    // Spark's DAGScheduler: "Job aborted due to stage failure: ... Lost task 1.3 in stage 1.0 (TID 14) (host executor 0):
    // java.io.IOException: java.lang.ClassNotFoundException: io.layerscope.spark.CalibrationStage$Window"
    private static final Pattern MISSING = Pattern.compile(
            "Lost task [\\s\\S]*?(?:ClassNotFoundException|NoClassDefFoundError): (io[./]layerscope[./][\\w./$]+)");

    private MissingExecutorJar() {
    }

    /** The user error for {@code e} or one of its causes, or null when no executor lacked layerscope's classes. */
    public static LayerscopeException explain(Throwable e) {
        Matcher m = CauseMessages.find(e, MISSING);
        if (m == null) {
            return null;
        }
        return new LayerscopeException("the executors cannot load layerscope's classes ("
                + m.group(1).replace('/', '.') + " is not on their class path): they lack the application jar."
                + " With LAYERSCOPE_EXECUTOR_JAR=none each executor's class path must hold it (the nodes'"
                + " $SPARK_HOME/jars, or spark.executor.extraClassPath); with local or local:/PATH the path"
                + " must exist on every node; left unset, submit.sh sends the jar with the job (docs/CLUSTER.md)", e);
    }
}
