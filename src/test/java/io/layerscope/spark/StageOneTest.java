package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class StageOneTest {
    @Test
    void aStandaloneMasterWithoutACoreCountGetsANoteOnItsShards() {
        SparkConf standalone = new SparkConf(false).set("spark.master", "spark://head:7077");
        assertEquals("note: stage 1 takes 3 shards, one per executor core registered by now: without"
                        + " --total-executor-cores the standalone master gives no count to wait for; pass"
                        + " --total-executor-cores N (or --shards N) so that the shards, and the sums' last bits, do not"
                        + " depend on how fast executors register",
                StageOne.unsettledShards(standalone, 0, 3).orElseThrow());
        assertTrue(StageOne.unsettledShards(standalone, 0, 1).orElseThrow().startsWith("note: stage 1 takes 1 shard, "));
    }

    @Test
    void aCoreCountShardsOrAnotherMasterNeedNoNote() {
        SparkConf standalone = new SparkConf(false).set("spark.master", "spark://head:7077");
        assertTrue(StageOne.unsettledShards(standalone.clone().set("spark.cores.max", "8"), 0, 8).isEmpty());
        assertTrue(StageOne.unsettledShards(standalone, 4, 4).isEmpty(), "--shards given");
        assertTrue(StageOne.unsettledShards(new SparkConf(false).set("spark.master", "local[2]"), 0, 2).isEmpty());
        assertTrue(StageOne.unsettledShards(new SparkConf(false).set("spark.master", "yarn"), 0, 2).isEmpty());
    }
}
