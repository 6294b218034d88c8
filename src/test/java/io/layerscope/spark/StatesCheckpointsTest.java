package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** The setting of how many blocks lie between two checkpoints of sequential mode's hidden states. */
class StatesCheckpointsTest {
    @Test
    void everyFourthBlockUnlessTheSettingSaysOtherwise() {
        SparkConf conf = new SparkConf(false);
        assertEquals(4, StatesCheckpoints.every(conf));
        conf.set(StatesCheckpoints.EVERY, " 1 ");
        assertEquals(1, StatesCheckpoints.every(conf));
        conf.set(StatesCheckpoints.EVERY, "0");
        assertEquals(0, StatesCheckpoints.every(conf));
        for (String bad : List.of("-1", "2.5", "four", "", "99999999999")) {
            conf.set(StatesCheckpoints.EVERY, bad);
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> StatesCheckpoints.every(conf));
            assertEquals("spark.layerscope.sequential.checkpointEvery=" + bad + " is not a number of blocks; use a whole"
                    + " number (0 for no checkpoints; 4 by default when spark.checkpoint.dir is set)", e.getMessage());
        }
    }
}
