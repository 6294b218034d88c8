package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A job Spark stopped because the results its tasks sent the driver outgrew
 * {@code spark.driver.maxResultSize}, told as what to change. Spark reports it as an unexplained job
 * failure; it is a setting the user chose (or a cluster's default of 1g), and the sizes that need more
 * are in docs/CLUSTER.md (driver memory).
 */
public final class ResultSizeLimit {
    // Spark's TaskSetManager: "Total size of serialized results of 3 tasks (1559.9 KiB) is bigger than
    // spark.driver.maxResultSize (1024.0 KiB)"
    private static final Pattern SPARK_MESSAGE = Pattern.compile(
            "Total size of serialized results of (\\d+) tasks? \\(([^)]+)\\) is bigger than spark\\.driver\\.maxResultSize \\(([^)]+)\\)");

    private ResultSizeLimit() {
    }

    /** The user error for {@code e} or one of its causes, or null when no result size limit stopped it. */
    public static LayerscopeException explain(Throwable e) {
        Matcher m = CauseMessages.find(e, SPARK_MESSAGE);
        if (m == null) {
            return null;
        }
        return new LayerscopeException("the results the executors sent the driver in one Spark job (" + m.group(2)
                + " from " + m.group(1) + " task" + ("1".equals(m.group(1)) ? "" : "s") + " so far) exceed"
                + " spark.driver.maxResultSize (" + m.group(3) + "); raise it, e.g. --conf"
                + " spark.driver.maxResultSize=4g (0: no limit), and give the driver the memory to hold them"
                + " (--driver-memory; docs/CLUSTER.md lists what a sweep sends per shard and per layer)", e);
    }
}
