package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** How --gram-memory splits the taps into passes, worked out by hand for Llama-3.2-1B's shapes. */
class GramPlanTest {
    /** Llama-3.2-1B: hidden 2048, intermediate 8192, 16 blocks, lm_head on the final norm. */
    static List<PrunableLayer> llama1b() {
        List<PrunableLayer> layers = new ArrayList<>();
        for (int b = 0; b < 16; b++) {
            for (LayerKind k : new LayerKind[] {LayerKind.Q_PROJ, LayerKind.K_PROJ, LayerKind.V_PROJ, LayerKind.O_PROJ,
                LayerKind.GATE_PROJ, LayerKind.UP_PROJ, LayerKind.DOWN_PROJ}) {
                int in = k == LayerKind.DOWN_PROJ ? 8192 : 2048;
                layers.add(new PrunableLayer("model.layers." + b + "." + k.shortName(), b, k, 1, in, "w"));
            }
        }
        layers.add(new PrunableLayer("lm_head", -1, LayerKind.LM_HEAD, 128256, 2048, "w"));
        return layers;
    }

    @Test
    void llama1bIn4GiBWithOneTaskNeedsThreePasses() {
        // a block: 3 x 2048^2 x 8 B = 96 MiB + 8192^2 x 8 B = 512 MiB = 608 MiB. In 4096 MiB: blocks 0-5
        // (3648) and block 6's three 32 MiB taps (3744); then 6/MLP_ACT, blocks 7-11 and 12's small taps
        // (512 + 3040 + 96); then 12/MLP_ACT, blocks 13-15 and the final norm (512 + 1824 + 32)
        GramPlan plan = GramPlan.make(llama1b(), 4L << 30, 1);
        assertEquals(3, plan.passes());
        assertEquals(27, plan.groups().get(0).size());
        assertEquals("0/ATTN_IN", plan.groups().get(0).get(0));
        assertEquals("6/MLP_IN", plan.groups().get(0).get(26));
        assertEquals("6/MLP_ACT", plan.groups().get(1).get(0));
        assertEquals(24, plan.groups().get(1).size());
        assertEquals(14, plan.groups().get(2).size());
        assertEquals("final/FINAL_NORM", plan.groups().get(2).get(13));
        // blocks 0-5 and block 6 but down_proj
        assertEquals(7 * 6 + 6, plan.layersOf(0, llama1b()).size());
    }

    @Test
    void twoTasksHalveEachPass() {
        // 2048 MiB a task: blocks 0-2 and 3's small taps (1920), then passes of 1824 MiB (a down_proj
        // input, two blocks, three small taps), and last 15/MLP_ACT with the final norm (544)
        GramPlan plan = GramPlan.make(llama1b(), 4L << 30, 2);
        assertEquals(6, plan.passes());
        assertEquals(15, plan.groups().get(0).size());
        assertEquals(12, plan.groups().get(1).size());
        assertEquals(List.of("15/MLP_ACT", "final/FINAL_NORM"), plan.groups().get(5));
    }

    @Test
    void eachPassKeepsTheInputOfTheNextPasssFirstBlock() {
        // the three passes of 4 GiB: from block 0 (keep block 6's input), from block 6 (keep 12's), from 12
        GramPlan plan = GramPlan.make(llama1b(), 4L << 30, 1);
        assertEquals(new GramStage.Chain("r", 0, 6), plan.chain("r", 0, 16));
        assertEquals(new GramStage.Chain("r", 6, 12), plan.chain("r", 1, 16));
        assertEquals(new GramStage.Chain("r", 12, -1), plan.chain("r", 2, 16));
        // down_proj's 512 MiB alone in each pass: the last pass (lm_head's tap) starts after block 15
        List<PrunableLayer> down = llama1b().stream()
                .filter(l -> l.kind() == LayerKind.DOWN_PROJ || l.kind() == LayerKind.LM_HEAD).toList();
        GramPlan single = GramPlan.make(down, 512L << 20, 1);
        assertEquals(17, single.passes());
        assertEquals(new GramStage.Chain("r", 0, 1), single.chain("r", 0, 16));
        assertEquals(new GramStage.Chain("r", 14, 15), single.chain("r", 14, 16));
        assertEquals(new GramStage.Chain("r", 15, 16), single.chain("r", 15, 16));
        assertEquals(List.of("final/FINAL_NORM"), single.groups().get(16));
        assertEquals(new GramStage.Chain("r", 16, -1), single.chain("r", 16, 16));
        // the second pass starts in block 0 as the first did: nothing worth keeping
        GramPlan split = GramPlan.make(llama1b().subList(0, 14), 600L << 20, 1);
        assertEquals(List.of("0/MLP_ACT", "1/ATTN_IN", "1/ATTN_OUT"), split.groups().get(1));
        assertEquals(new GramStage.Chain("r", 0, -1), split.chain("r", 0, 16));
        assertEquals(new GramStage.Chain("r", 0, 1), split.chain("r", 1, 16));
    }

    @Test
    void aBudgetBelowTheLargestTapIsRefusedWithTheSizeNeeded() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> GramPlan.make(llama1b(), 256L << 20, 2));
        assertEquals("--gram-memory 268435456 bytes over 2 concurrent tasks per executor leaves 134217728 bytes a task,"
                + " but the Gram matrix of tap 0/MLP_ACT (8192 x 8192 doubles) alone needs 536870912; give --gram-memory"
                + " at least 1024m", e.getMessage());
    }

    /** The default budget fits a 16 GiB executor as it is; a smaller heap caps it at a quarter. */
    @Test
    void theBudgetIsCappedAtAQuarterOfTheExecutorsHeap() {
        GramPlan roomy = GramPlan.make(llama1b(), 4L << 30, 2, 16L << 30);
        assertEquals(4L << 30, roomy.budget());
        assertEquals(6, roomy.passes());
        // 12 GiB: 3 GiB, 1.5 GiB a task: one 512 MiB down_proj input and up to 1 GiB of the rest per pass
        GramPlan capped = GramPlan.make(llama1b(), 4L << 30, 2, 12L << 30);
        assertEquals(3L << 30, capped.budget());
        assertEquals(GramPlan.make(llama1b(), 3L << 30, 2).groups(), capped.groups());
    }

    /** A 4g local-mode JVM cannot hold the 1B model's 8192 x 8192 matrices on two tasks: refused with the heap needed. */
    @Test
    void aHeapTooSmallForOneTapIsRefusedWithTheHeapNeeded() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> GramPlan.make(llama1b(), 4L << 30, 2, 3_817_865_216L));
        assertEquals("--gram: the Gram matrix of one input of model.layers.0.down_proj (8192 x 8192) is 512 MiB of"
                + " doubles, for each of the executor's 2 concurrent tasks, but a pass may use at most a quarter of the"
                + " executor's heap of 3641 MiB; give the executors at least 5g of heap (local mode: --driver-memory 5g, or"
                + " LAYERSCOPE_DRIVER_MEMORY=5g without a Spark distribution; a cluster: --executor-memory), or run"
                + " fewer tasks per executor",
                e.getMessage());
    }

    /**
     * Local mode with the default 4g heap: a quarter (910.25 MiB) holds one 512 MiB down_proj input,
     * not two, so the passes run one task at a time. Each pass then holds one block's MLP_ACT (512 MiB)
     * and the next block's three small taps (96 MiB), the first also block 0's small taps: 16 passes.
     */
    @Test
    void inLocalModeAHeapForOneMatrixRunsOneTaskAtATime() {
        long heap = 3_817_865_216L;
        GramPlan plan = GramPlan.make(llama1b(), 4L << 30, 2, heap, true);
        assertEquals(1, plan.tasks());
        assertEquals(heap / 4, plan.budget());
        assertEquals(16, plan.passes());
        assertEquals(List.of("0/ATTN_IN", "0/ATTN_OUT", "0/MLP_IN", "0/MLP_ACT", "1/ATTN_IN", "1/ATTN_OUT", "1/MLP_IN"),
                plan.groups().get(0));
        assertEquals(List.of("1/MLP_ACT", "2/ATTN_IN", "2/ATTN_OUT", "2/MLP_IN"), plan.groups().get(1));
        assertEquals(List.of("15/MLP_ACT", "final/FINAL_NORM"), plan.groups().get(15));
        assertEquals("--gram: the Gram passes run 1 task at a time, not 2: one input of model.layers.0.down_proj needs a"
                + " Gram matrix of 512 MiB per task, and a pass may use 910 MiB (a quarter of the heap); 5g of heap"
                + " (--driver-memory, or LAYERSCOPE_DRIVER_MEMORY) runs 2 at a time", plan.fewer());
        assertEquals(1, plan.passShards(2));
        // the lone task takes the idle core's libtorch thread too
        assertEquals(2, plan.passThreads(2, 1));
        // on a cluster the partitions do not bound an executor's tasks: refused as before
        assertThrows(LayerscopeException.class, () -> GramPlan.make(llama1b(), 4L << 30, 2, heap, false));
    }

    /** Three task slots, room for two matrices: two at a time. */
    @Test
    void inLocalModeAsManyTasksRunAsTheBudgetHolds() {
        GramPlan plan = GramPlan.make(llama1b(), 1100L << 20, 3, 16L << 30, true);
        assertEquals(2, plan.tasks());
        assertEquals(GramPlan.make(llama1b(), 1100L << 20, 2).groups(), plan.groups());
        assertEquals("--gram: the Gram passes run 2 tasks at a time, not 3: one input of model.layers.0.down_proj needs"
                + " a Gram matrix of 512 MiB per task, and a pass may use 1.07 GiB (--gram-memory); --gram-memory 1536m"
                + " runs 3 at a time", plan.fewer());
        // 3 cores over 2 tasks: one thread each (no core is split); 4 cores: two each
        assertEquals(1, plan.passThreads(3, 1));
        assertEquals(2, plan.passThreads(4, 1));
    }

    /** Where one matrix does not fit even alone, local mode asks for the heap of one task. */
    @Test
    void inLocalModeAHeapTooSmallForOneMatrixIsRefusedWithTheHeapForOne() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> GramPlan.make(llama1b(), 4L << 30, 2, 1536L << 20, true));
        assertEquals("--gram: the Gram matrix of one input of model.layers.0.down_proj (8192 x 8192) is 512 MiB of"
                + " doubles, even with one task at a time, but a pass may use at most a quarter of the executor's heap of"
                + " 1536 MiB; give the executors at least 3g of heap (local mode: --driver-memory 3g, or"
                + " LAYERSCOPE_DRIVER_MEMORY=3g without a Spark distribution; a cluster: --executor-memory)",
                e.getMessage());
        LayerscopeException small = assertThrows(LayerscopeException.class,
                () -> GramPlan.make(llama1b(), 256L << 20, 2, 16L << 30, true));
        assertEquals("--gram-memory 268435456 bytes over 1 concurrent task per executor leaves 268435456 bytes a task,"
                + " but the Gram matrix of tap 0/MLP_ACT (8192 x 8192 doubles) alone needs 536870912; give --gram-memory"
                + " at least 512m", small.getMessage());
    }

    /** Room for every task: nothing changes in local mode. */
    @Test
    void inLocalModeARoomyHeapKeepsEveryTask() {
        GramPlan plan = GramPlan.make(llama1b(), 4L << 30, 2, 16L << 30, true);
        assertEquals(2, plan.tasks());
        assertEquals(null, plan.fewer());
        assertEquals(4, plan.passShards(4));
        assertEquals(1, plan.passThreads(2, 1));
        assertEquals(2, plan.passThreads(4, 2));
        assertEquals(GramPlan.make(llama1b(), 4L << 30, 2).groups(), plan.groups());
    }

    @Test
    void theExecutorsHeapIsLocalModesOwnOrSparkExecutorMemory() {
        assertEquals(Runtime.getRuntime().maxMemory(), GramPlan.executorHeap(new SparkConf().set("spark.master", "local[2]")));
        assertEquals(6L << 30, GramPlan.executorHeap(new SparkConf().set("spark.master", "yarn")
                .set("spark.executor.memory", "6g")));
        assertEquals(1L << 30, GramPlan.executorHeap(new SparkConf().set("spark.master", "spark://h:7077")));
        // local-cluster's executors are JVMs of their own, with spark.executor.memory
        assertEquals(2L << 30, GramPlan.executorHeap(new SparkConf().set("spark.master", "local-cluster[2,1,2048]")
                .set("spark.executor.memory", "2g")));
    }

    @Test
    void tasksPerExecutorFromTheConf() {
        assertEquals(2, GramPlan.tasksPerExecutor(new SparkConf().set("spark.master", "local[2]"), 2));
        assertEquals(4, GramPlan.tasksPerExecutor(new SparkConf().set("spark.master", "spark://h:7077")
                .set("spark.executor.cores", "8").set("spark.task.cpus", "2"), 16));
        assertEquals(1, GramPlan.tasksPerExecutor(new SparkConf().set("spark.master", "yarn"), 16));
    }
}
