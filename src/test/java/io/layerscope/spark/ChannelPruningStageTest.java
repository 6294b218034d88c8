package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ChannelPruningStageTest {
    @Test
    void aFewTasksPerSlotNeverMoreThanTheJobs() {
        assertEquals(8, ChannelPruningStage.tasks(112, 2));
        assertEquals(256, ChannelPruningStage.tasks(1000, 64));
        assertEquals(3, ChannelPruningStage.tasks(3, 2));
        assertEquals(1, ChannelPruningStage.tasks(1, 8));
        // a context that reports no slots still gets a task per job up to a slot's share
        assertEquals(4, ChannelPruningStage.tasks(10, 0));
    }
}
