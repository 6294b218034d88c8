package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class StageOneTest {
    private static final SparkConf STANDALONE = new SparkConf(false).set("spark.master", "spark://head:7077");

    @Test
    void aStandaloneMasterWithoutACoreCountGetsANoteOnItsShards() {
        assertEquals("note: stage 1 takes 3 shards, from the executor cores registered by now: without"
                        + " --total-executor-cores the standalone master gives no count to wait for; pass"
                        + " --total-executor-cores N (or --shards N) so that the shards, and the sums' last bits, do not"
                        + " depend on how fast executors register",
                StageOne.unsettledShards(STANDALONE, 0, 3, 128).orElseThrow());
    }

    @Test
    void aCoreCountShardsParallelismFewWindowsOrAnotherMasterNeedNoNote() {
        assertTrue(StageOne.unsettledShards(STANDALONE.clone().set("spark.cores.max", "8"), 0, 8, 128).isEmpty());
        assertTrue(StageOne.unsettledShards(STANDALONE, 4, 4, 128).isEmpty(), "--shards given");
        assertTrue(StageOne.unsettledShards(STANDALONE.clone().set("spark.default.parallelism", "6"), 0, 6, 128).isEmpty());
        assertTrue(StageOne.unsettledShards(STANDALONE, 0, 4, 4).isEmpty(), "one shard per window: cores do not matter");
        assertTrue(StageOne.unsettledShards(new SparkConf(false).set("spark.master", "local[2]"), 0, 2, 128).isEmpty());
        assertTrue(StageOne.unsettledShards(new SparkConf(false).set("spark.master", "yarn"), 0, 2, 128).isEmpty());
    }
}
