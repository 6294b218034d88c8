package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.Tap;
import io.layerscope.stats.GramSums;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which taps' Gram matrices each pass over the calibration data accumulates. A tap's G is in x in
 * doubles; every concurrent calibration task on an executor holds its own copy of a pass's
 * matrices, so a pass's taps take at most {@code budget / tasks} bytes. Taps are taken in
 * forward order, so a pass's forward stops at the last block its taps need, and each group is
 * used by the per-layer stage and dropped before the next pass.
 *
 * @param groups the tap keys of each pass, in forward order
 * @param budget the executor's budget in bytes (--gram-memory)
 * @param tasks  concurrent calibration tasks per executor in the Gram passes
 * @param fewer  null, or why the passes run fewer tasks at a time than the executor has (local mode,
 *               where the passes' partitions are the only tasks the JVM runs; see {@link #make(List, long, int, long, boolean)})
 */
record GramPlan(List<List<String>> groups, long budget, int tasks, String fewer) {

    /**
     * As {@link #make(List, long, int)}, with the budget capped at a quarter of {@code executorHeap}: a
     * pass's matrices are on the heap about three times over (the tasks' sums, their serialized
     * results, the driver's merged copies; in local mode all in one JVM), beside stage two's weights.
     * Where a tap does not fit the capped budget, the message asks for more heap.
     */
    static GramPlan make(List<PrunableLayer> layers, long requested, int tasks, long executorHeap) {
        return make(layers, requested, tasks, executorHeap, false);
    }

    /**
     * As {@link #make(List, long, int, long)}; in local mode ({@code local}) a budget that holds the
     * widest input's matrix once but not once per task runs the passes with as many tasks as it holds
     * (the caller gives the passes at most {@link #tasks} partitions), instead of refusing: the passes
     * then take longer, but the sweep runs with the heap it has, and {@link #fewer} says so.
     */
    static GramPlan make(List<PrunableLayer> layers, long requested, int tasks, long executorHeap, boolean local) {
        long budget = Math.min(requested, executorHeap / 4);
        PrunableLayer widest = layers.stream().max(java.util.Comparator.comparingInt(PrunableLayer::inFeatures)).orElse(null);
        int wanted = Math.max(1, tasks);
        int concurrent = wanted;
        long largest = widest == null ? 0 : GramSums.bytes(widest.inFeatures());
        if (local && largest > 0) {
            concurrent = (int) Math.max(1, Math.min(wanted, budget / largest));
        }
        if (budget < requested && largest > budget / concurrent) {
            throw heapTooSmall(widest, largest, concurrent, executorHeap, local);
        }
        GramPlan plan = make(layers, budget, concurrent);
        if (concurrent == wanted) {
            return plan;
        }
        return new GramPlan(plan.groups(), plan.budget(), concurrent,
                fewerTasks(widest, largest, concurrent, wanted, budget, budget < requested));
    }

    /** The refusal when the heap's quarter cannot hold one matrix per concurrent task. */
    private static LayerscopeException heapTooSmall(PrunableLayer widest, long largest, int concurrent, long executorHeap,
                                                    boolean local) {
        long needed = heapGibibytes(largest, concurrent);
        return new LayerscopeException("--gram: the Gram matrix of one input of " + widest.name() + " ("
                + widest.inFeatures() + " x " + widest.inFeatures() + ") is "
                + mebibytesUp(largest) + " MiB of doubles, " + (local ? "even with one task at a time"
                : "for each of the executor's " + concurrent + " concurrent task" + (concurrent == 1 ? "" : "s"))
                + ", but a pass may use at most a quarter of the executor's heap of "
                + mebibytesUp(executorHeap) + " MiB; give the executors at least " + needed
                + "g of heap (local mode: --driver-memory " + needed + "g, or LAYERSCOPE_DRIVER_MEMORY="
                + needed + "g without a Spark distribution; a cluster: --executor-memory)"
                + (local ? "" : ", or run fewer tasks per executor"));
    }

    /**
     * The heap, in whole GiB, whose quarter holds {@code tasks} matrices of {@code largest} bytes: a
     * JVM's usable heap is somewhat under its -Xmx, so 15% more than four times the matrices.
     */
    private static long heapGibibytes(long largest, int tasks) {
        return gibibytesUp((long) (4.6 * largest * tasks));
    }

    /** What the sweep says when local mode runs fewer Gram tasks than it has cores, and what would run them all. */
    private static String fewerTasks(PrunableLayer widest, long largest, int concurrent, int wanted, long budget,
                                     boolean heapBound) {
        String more = heapBound
                ? heapGibibytes(largest, wanted) + "g of heap (--driver-memory, or LAYERSCOPE_DRIVER_MEMORY)"
                : "--gram-memory " + mebibytesUp(largest * wanted) + "m";
        return "--gram: the Gram passes run " + concurrent + " task" + (concurrent == 1 ? "" : "s") + " at a time, not "
                + wanted + ": one input of " + widest.name() + " needs a Gram matrix of " + ConsoleProgress.bytes(largest)
                + " per task, and a pass may use " + ConsoleProgress.bytes(budget) + " ("
                + (heapBound ? "a quarter of the heap" : "--gram-memory") + "); " + more + " runs " + wanted + " at a time";
    }

    /**
     * The heap of one executor: local mode's own JVM (the driver is the executor), else
     * spark.executor.memory (1g unless set).
     */
    static long executorHeap(org.apache.spark.SparkConf conf) {
        if (local(conf)) {
            return Runtime.getRuntime().maxMemory();
        }
        return conf.getSizeAsBytes("spark.executor.memory", "1g");
    }

    /** Local mode: the driver's JVM is the one executor, and runs as many tasks at once as a stage has partitions, up to its cores. */
    static boolean local(org.apache.spark.SparkConf conf) {
        return LocalDevice.isLocal(conf);
    }

    private static long gibibytesUp(long bytes) {
        return (bytes + (1L << 30) - 1) >> 30;
    }

    /** The taps the {@code layers} read, each once, in forward order, split into passes. */
    static GramPlan make(List<PrunableLayer> layers, long budget, int tasks) {
        Map<String, Integer> features = new LinkedHashMap<>();
        layers.stream().sorted(java.util.Comparator.comparingInt(GramPlan::order))
                .forEach(l -> features.putIfAbsent(l.tapKey(), l.inFeatures()));
        long perTask = budget / Math.max(1, tasks);
        List<List<String>> groups = new ArrayList<>();
        List<String> group = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<String, Integer> tap : features.entrySet()) {
            long size = GramSums.bytes(tap.getValue());
            if (size > perTask) {
                throw new LayerscopeException("--gram-memory " + budget + " bytes over " + tasks + " concurrent task"
                        + (tasks == 1 ? "" : "s") + " per executor leaves " + perTask + " bytes a task, but the Gram"
                        + " matrix of tap " + tap.getKey() + " (" + tap.getValue() + " x " + tap.getValue() + " doubles)"
                        + " alone needs " + size + "; give --gram-memory at least " + mebibytesUp(size * tasks) + "m");
            }
            if (bytes + size > perTask && !group.isEmpty()) {
                groups.add(List.copyOf(group));
                group.clear();
                bytes = 0;
            }
            group.add(tap.getKey());
            bytes += size;
        }
        if (!group.isEmpty()) {
            groups.add(List.copyOf(group));
        }
        return new GramPlan(List.copyOf(groups), budget, tasks, null);
    }

    /**
     * The partitions of a Gram pass, given the calibration's {@code shards}: where local mode runs fewer
     * tasks than it has cores ({@link #fewer}), no more than {@link #tasks}, since there a stage's
     * partitions bound the tasks that run at once; otherwise the shards as they are.
     */
    int passShards(int shards) {
        return fewer == null ? shards : Math.min(shards, tasks);
    }

    /**
     * libtorch threads for each task of a Gram pass, where a task otherwise has {@code taskThreads}:
     * where local mode runs fewer tasks than its {@code cores} ({@link #fewer}), the idle cores are
     * shared among the tasks that run (libtorch's counts are fixed per task slot when the engine
     * starts); otherwise {@code taskThreads}.
     */
    int passThreads(int cores, int taskThreads) {
        return fewer == null ? taskThreads : Math.max(taskThreads, cores / tasks);
    }

    /**
     * Pass {@code g}'s place in the chain of run {@code run} over a model of {@code blocks} blocks:
     * it starts at its first tap's block and keeps the input of the next pass's first block, except
     * where there is nothing to gain: a start at block 0 (the embedding is cheaper to recompute than
     * to read) and the last pass.
     */
    GramStage.Chain chain(String run, int g, int blocks) {
        int from = firstBlock(g, blocks);
        int keep = g + 1 < groups.size() ? firstBlock(g + 1, blocks) : 0;
        return new GramStage.Chain(run, from, keep > 0 ? keep : -1);
    }

    private int firstBlock(int g, int blocks) {
        return groups.get(g).stream().mapToInt(k -> Tap.block(k, blocks)).min().orElseThrow();
    }

    /** The layers whose tap is in pass {@code g}, in the order given. */
    List<PrunableLayer> layersOf(int g, List<PrunableLayer> layers) {
        return layers.stream().filter(l -> groups.get(g).contains(l.tapKey())).toList();
    }

    /**
     * Calibration tasks one executor runs at once: local mode runs them all in the driver's JVM
     * (local[N]: N); on a cluster spark.executor.cores / spark.task.cpus (1 / 1 unless set).
     */
    static int tasksPerExecutor(org.apache.spark.SparkConf conf, int defaultParallelism) {
        if (local(conf)) {
            return LocalDevice.defaultShards(Math.max(1, defaultParallelism));   // the passes' shards
        }
        int cores = conf.getInt("spark.executor.cores", 1);
        int perTask = Math.max(1, conf.getInt("spark.task.cpus", 1));
        return Math.max(1, cores / perTask);
    }

    int passes() {
        return groups.size();
    }

    /** Forward order: block by block, the final norm (lm_head's tap) last. */
    private static int order(PrunableLayer l) {
        return l.block() < 0 ? Integer.MAX_VALUE : l.block();
    }

    private static long mebibytesUp(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
