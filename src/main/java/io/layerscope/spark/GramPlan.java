package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.GramSums;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which taps' Gram matrices each pass over the calibration data accumulates. A tap's G is in x in
 * doubles; every concurrent calibration task on an executor holds its own copy of a pass's
 * matrices, so a pass's taps take at most {@code budget / tasksPerExecutor} bytes. Taps are taken in
 * forward order, so a pass's forward stops at the last block its taps need, and each group is
 * used by the per-layer stage and dropped before the next pass.
 *
 * @param groups the tap keys of each pass, in forward order
 * @param budget the executor's budget in bytes (--gram-memory)
 * @param tasks  concurrent calibration tasks per executor
 */
record GramPlan(List<List<String>> groups, long budget, int tasks) {

    /**
     * As {@link #make(List, long, int)}, with the budget capped at a quarter of {@code executorHeap}: a
     * pass's matrices are on the heap about three times over (the tasks' sums, their serialized
     * results, the driver's merged copies; in local mode all in one JVM), beside stage two's weights.
     * Where a tap does not fit the capped budget, the message asks for more heap.
     */
    static GramPlan make(List<PrunableLayer> layers, long requested, int tasks, long executorHeap) {
        long budget = Math.min(requested, executorHeap / 4);
        PrunableLayer widest = layers.stream().max(java.util.Comparator.comparingInt(PrunableLayer::inFeatures)).orElse(null);
        if (budget < requested && widest != null) {
            long largest = GramSums.bytes(widest.inFeatures());
            if (largest > budget / Math.max(1, tasks)) {
                // a JVM's usable heap is somewhat under its -Xmx: ask for 15% more than four times the matrices
                long needed = (long) (4.6 * largest * Math.max(1, tasks));
                throw new LayerscopeException("--gram: the Gram matrix of one input of " + widest.name() + " ("
                        + widest.inFeatures() + " x " + widest.inFeatures() + ") is "
                        + mebibytesUp(largest) + " MiB of doubles, for each of the executor's " + tasks + " concurrent task"
                        + (tasks == 1 ? "" : "s") + ", but a pass may use at most a quarter of the executor's heap of "
                        + mebibytesUp(executorHeap) + " MiB; give the executors at least " + gibibytesUp(needed)
                        + "g of heap (local mode: --driver-memory " + gibibytesUp(needed) + "g, or LAYERSCOPE_DRIVER_MEMORY="
                        + gibibytesUp(needed) + "g without a Spark distribution; a cluster: --executor-memory), or run"
                        + " fewer tasks per executor");
            }
        }
        return make(layers, budget, tasks);
    }

    /**
     * The heap of one executor: local mode's own JVM (the driver is the executor), else
     * spark.executor.memory (1g unless set).
     */
    static long executorHeap(org.apache.spark.SparkConf conf) {
        if (conf.get("spark.master", "local").startsWith("local")) {
            return Runtime.getRuntime().maxMemory();
        }
        return conf.getSizeAsBytes("spark.executor.memory", "1g");
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
        return new GramPlan(List.copyOf(groups), budget, tasks);
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
        if (conf.get("spark.master", "local").startsWith("local")) {
            return Math.max(1, defaultParallelism);
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
