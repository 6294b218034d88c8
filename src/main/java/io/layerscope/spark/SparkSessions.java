package io.layerscope.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one place a SparkSession is made. Under spark-submit the master and settings come from
 * spark-submit; run any other way (tests, the IDE) the session falls back to {@code local[*]}.
 */
public final class SparkSessions {
    /** The master of a run that names none (tests, the IDE). */
    static final String DEFAULT_MASTER = "local[*]";

    private SparkSessions() {
    }

    public static SparkSession getOrCreate(String appName) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.master")) {
            conf.setMaster(DEFAULT_MASTER);
        }
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(appName);
        }
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.sql.shuffle.partitions", "4");
        conf.setIfMissing("spark.executorEnv.DJL_OFFLINE", "true");
        // the layers table has ~60 columns; Spark warns when printing plans wider than 25
        conf.setIfMissing("spark.sql.debug.maxToStringFields", "200");
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
