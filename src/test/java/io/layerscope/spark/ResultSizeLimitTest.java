package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

/** Spark's result size limit, as Spark 4.0's TaskSetManager words it, told as what to change. */
class ResultSizeLimitTest {
    @Test
    void theLimitAnywhereInTheCausesIsExplained() {
        Exception spark = new Exception("Job aborted due to stage failure: Total size of serialized results of 3 tasks"
                + " (1559.9 KiB) is bigger than spark.driver.maxResultSize (1024.0 KiB)\nDriver stacktrace:");
        RuntimeException wrapped = new RuntimeException("stage two", spark);
        LayerscopeException e = ResultSizeLimit.explain(wrapped);
        assertEquals("the results the executors sent the driver in one Spark job (1559.9 KiB from 3 tasks so far)"
                + " exceed spark.driver.maxResultSize (1024.0 KiB); raise it, e.g. --conf spark.driver.maxResultSize=4g"
                + " (0: no limit), and give the driver the memory to hold them (--driver-memory; docs/CLUSTER.md lists"
                + " what a sweep sends per shard and per layer)", e.getMessage());
        assertSame(wrapped, e.getCause());
        assertEquals("(2.0 GiB from 1 task so far)", ResultSizeLimit.explain(new Exception("Total size of serialized"
                + " results of 1 tasks (2.0 GiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)")).getMessage()
                .replaceAll("^.*job ", "").replaceAll(" exceed.*$", ""));
    }

    @Test
    void otherFailuresAreNotThisOne() {
        assertNull(ResultSizeLimit.explain(new Exception("Job aborted due to stage failure: Task 0 failed 4 times")));
        assertNull(ResultSizeLimit.explain(new Exception((String) null)));
    }
}
