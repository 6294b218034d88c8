package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkConf;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/**
 * A sequential pass makes its outputs one input at a time as Spark asks for them, so that a
 * partition's hidden states never sit on the heap together; and where the states wait between passes.
 */
class SequentialTasksPassTest {
    @Test
    void outputsAreMadeOneInputAtATimeThenTheFinishThenTheClose() {
        List<String> events = new ArrayList<>();
        Iterator<Integer> inputs = new Iterator<>() {
            int next = 1;

            @Override
            public boolean hasNext() {
                return next <= 3;
            }

            @Override
            public Integer next() {
                events.add("read " + next);
                return next++;
            }
        };
        SequentialTasks.Pass<Integer, String> pass = new SequentialTasks.Pass<>(inputs) {
            @Override
            void add(Integer element, List<String> out) {
                events.add("made " + element);
                if (element != 2) {   // an input may give no output, or several
                    out.add("out " + element);
                }
            }

            @Override
            void finish(List<String> out) {
                events.add("finish");
                out.add("last");
                out.add("very last");
            }
        };
        assertTrue(events.isEmpty(), "nothing made before it is asked for");
        assertEquals("out 1", pass.next());
        assertEquals(List.of("read 1", "made 1"), events);
        assertTrue(pass.hasNext());
        assertEquals(List.of("read 1", "made 1", "read 2", "made 2", "read 3", "made 3"), events);
        assertEquals("out 3", pass.next());
        assertEquals("last", pass.next());
        assertEquals("very last", pass.next());
        assertFalse(pass.hasNext());
        assertFalse(pass.hasNext());
        assertEquals(List.of("read 1", "made 1", "read 2", "made 2", "read 3", "made 3", "finish"), events);
        assertThrows(NoSuchElementException.class, pass::next);
    }

    /** The pruned pass takes each stored batch with the marks the dense pass made for it, in order, lazily. */
    @Test
    void batchesArePairedWithTheirMarksInOrderAsAskedFor() {
        List<SequentialStage.Carried> batches = new ArrayList<>();
        List<io.layerscope.stats.OutlierPositions> marks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            batches.add(new SequentialStage.Carried(new io.layerscope.llama.HiddenStates(2 * i, 2, 1, 1, false, new byte[8]), null));
            marks.add(new io.layerscope.stats.OutlierPositions());
        }
        List<String> read = new ArrayList<>();
        Iterator<SequentialStage.Carried> in = batches.stream().peek(c -> read.add("batch " + c.states().firstSample())).iterator();
        Iterator<SequentialStage.Carried> paired = SequentialStage.paired(in, marks.iterator());
        assertTrue(read.isEmpty(), "nothing read before it is asked for");
        for (int i = 0; i < 3; i++) {
            SequentialStage.Carried c = paired.next();
            assertEquals(2 * i, c.states().firstSample());
            assertTrue(c.marks() == marks.get(i), "batch " + i + " has another batch's marks");
            assertEquals(i + 1, read.size());
        }
        assertFalse(paired.hasNext());
        assertThrows(NoSuchElementException.class, paired::next);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SequentialStage.paired(batches.iterator(), marks.subList(0, 2).iterator()).forEachRemaining(c -> { }));
        assertEquals("a partition's batches and its dense pass's marks differ in number", e.getMessage());
    }

    @Test
    void theStatesWaitOnDiskUnlessTheSettingSaysOtherwise() {
        SparkConf conf = new SparkConf(false);
        assertEquals(StorageLevel.DISK_ONLY(), SequentialStage.statesStorage(conf));
        conf.set(SequentialStage.STATES_STORAGE, " memory_and_disk ");
        assertEquals(StorageLevel.MEMORY_AND_DISK(), SequentialStage.statesStorage(conf));
        conf.set(SequentialStage.STATES_STORAGE, "MEMORY_AND_DISK_SER_2");
        assertEquals(StorageLevel.MEMORY_AND_DISK_SER_2(), SequentialStage.statesStorage(conf));
        for (String bad : List.of("NONE", "DISK", "")) {
            conf.set(SequentialStage.STATES_STORAGE, bad);
            io.layerscope.LayerscopeException e = assertThrows(io.layerscope.LayerscopeException.class,
                    () -> SequentialStage.statesStorage(conf));
            assertEquals("spark.layerscope.sequential.statesStorage=" + bad + " is not a storage level that keeps the"
                    + " hidden states; use DISK_ONLY (the default), MEMORY_AND_DISK, MEMORY_AND_DISK_SER or another of"
                    + " Spark's StorageLevel names except NONE", e.getMessage());
        }
    }
}
