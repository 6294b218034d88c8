package io.layerscope.spark;

import org.apache.spark.SparkContext;

/**
 * Something outside layerscope that a sweep calls at fixed points, for instance to watch it or to
 * make it fail on purpose (the tests inject failing tasks this way). It is the class named by
 * {@value #CONF}, in the Spark conf or as a local property of the submitting thread
 * ({@code sc.setLocalProperty}, which tasks inherit), with a public no-argument constructor and on
 * the driver's and executors' class path. Without that setting nothing is called.
 *
 * <pre>{@code
 * ./submit.sh sweep ... --conf spark.layerscope.hook=com.example.MyHook --jars my-hook.jar
 * }</pre>
 */
public interface SweepHook {
    /** The Spark setting that names the hook's class. */
    String CONF = "spark.layerscope.hook";

    /**
     * In a task of {@code stage} before its work: {@code "calibration"}, {@code "layer"} (per-layer
     * statistics and masks), {@code "blocks"} (OWL's per-block ratios), {@code "channels"} (how much
     * of the outlier channels the Wanda masks prune, for the depth tables), {@code "sequential"} (the
     * block passes of --mode sequential) or {@code "gram"} (a pass of --gram; called once the task's
     * model is loaded and its libtorch threads set).
     */
    default void taskStarts(String stage) {
    }

    /** On the driver, once stage one (the calibration forward) has finished. */
    default void calibrationDone(SparkContext sc) {
    }

    /**
     * On the driver, midway through writing the results into {@code staging} (beside --out): the
     * layers table is there, the activation norms and the report are being written beside, the other
     * tables and run.json are to come.
     */
    default void resultsWriting(java.nio.file.Path staging) {
    }
}
