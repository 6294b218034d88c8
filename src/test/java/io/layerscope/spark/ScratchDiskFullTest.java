package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ScratchDiskFullTest {
    /** As Spark 4.2 fails a sequential round whose states filled spark.local.dir: the IOException deep in its job failure. */
    @Test
    void aFullLocalDirectoryIsToldAsWhereSparkKeepsItsScratch() {
        Exception e = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 7.0 failed 1 times",
                new IllegalStateException("wrapped", new IOException("No space left on device")));
        assertEquals("a disk filled while Spark ran the job (No space left on device). Spark's own scratch (shuffle"
                + " data, and in --mode sequential the hidden states between rounds, gigabytes at real sizes) goes to its"
                + " local directories (spark.local.dir, by default the temporary directory): free space there or point"
                + " them at a larger disk, e.g. --conf spark.local.dir=/scratch",
                ScratchDiskFull.explain(e).getMessage());
    }

    @Test
    void otherFailuresAreNotThisOne() {
        assertNull(ScratchDiskFull.explain(new RuntimeException("Job aborted", new IOException("Connection reset"))));
        assertNull(ScratchDiskFull.explain(new RuntimeException((String) null)));
    }
}
