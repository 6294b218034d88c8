package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SparkSessionsTest {
    @Test
    void executorsGetDjlOfflineAndHugePageAllocationUnlessTheJobSaysOtherwise() {
        SparkConf defaults = new SparkConf(false);
        SparkSessions.setExecutorDefaults(defaults);
        assertEquals("true", defaults.get("spark.executorEnv.DJL_OFFLINE"));
        assertEquals("1", defaults.get("spark.executorEnv.THP_MEM_ALLOC_ENABLE"));

        SparkConf user = new SparkConf(false).set("spark.executorEnv.THP_MEM_ALLOC_ENABLE", "0");
        SparkSessions.setExecutorDefaults(user);
        assertEquals("0", user.get("spark.executorEnv.THP_MEM_ALLOC_ENABLE"));
    }
}
