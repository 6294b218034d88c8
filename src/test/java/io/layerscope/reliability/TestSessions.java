package io.layerscope.reliability;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * Switches the test JVM's Spark session: a SparkContext's master and core settings are fixed when it
 * starts, so a test that needs another master (a cluster, {@code local[2,4]} for task retries) or a
 * test-only setting stops the current session and starts its own. Later tests get a fresh default
 * session from {@code SparkSessions.getOrCreate}.
 */
final class TestSessions {
    private TestSessions() {
    }

    /** Stops any running session, then starts one on {@code master} with {@code conf} on top of the defaults. */
    static SparkSession start(String master, Map<String, String> conf) {
        stop();
        SparkConf c = new SparkConf()
                .setMaster(master)
                .setAppName("layerscope reliability test")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.sql.shuffle.partitions", "4")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executorEnv.DJL_OFFLINE", "true")
                .set("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
                .set("spark.executorEnv.THP_MEM_ALLOC_ENABLE", "1")
                .set("spark.sql.warehouse.dir", io.layerscope.spark.SparkSessions.temporaryWarehouse())
                // as SparkSessions adds it: run.json's lost executors, the memory kills' explanations
                .set("spark.extraListeners", io.layerscope.spark.Setbacks.class.getName());
        conf.forEach(c::set);
        return SparkSession.builder().config(c).getOrCreate();
    }

    static void stop() {
        for (Option<SparkSession> s : java.util.List.of(SparkSession.getActiveSession(), SparkSession.getDefaultSession())) {
            if (s.isDefined()) {
                s.get().stop();
            }
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }
}
