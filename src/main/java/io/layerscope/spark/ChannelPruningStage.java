package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.stats.ChannelPruning;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * A small Spark job after stage two, for N:M runs only: for the analysed layers that read systematic
 * outlier features, how many weights of each of those channels' columns their Wanda N:M mask prunes.
 * (Per-row masks are counted by stage two's statistics themselves.) Each task takes a run of
 * consecutive layers, reads each weight a block of rows at a time and masks the rows where they
 * could touch those columns; only layers with outlier channels are read.
 */
final class ChannelPruningStage {
    /** One layer's question: its channels of interest and its scaler_row. */
    record Job(PrunableLayer layer, int[] channels, float[] scalerRow) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** For each of {@code job.channels}, in how many of the layer's rows its mask prunes the column's weight. */
    record Answer(String layer, int[] prunedRows) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Tasks per task slot. A layer's question often takes less time than Spark spends launching and
     * finishing a task on a busy machine, so one task per layer (a hundred or more) mostly waited on
     * the scheduler; a few runs of layers per slot still even out layers of different sizes.
     */
    static final int TASKS_PER_SLOT = 4;

    private ChannelPruningStage() {
    }

    /** How many tasks ask {@code jobs} questions on {@code slots} task slots: a few per slot, at most one per job. */
    static int tasks(int jobs, int slots) {
        return Math.max(1, Math.min(jobs, TASKS_PER_SLOT * Math.max(1, slots)));
    }

    /** Layer name -> per channel of its job, the rows whose Wanda N:M mask prunes it; in job order. */
    static Map<String, int[]> run(JavaSparkContext jsc, String modelDir, List<Job> jobs, SparsityPattern pattern) {
        Map<String, int[]> out = new LinkedHashMap<>();
        if (jobs.isEmpty()) {
            return out;
        }
        if (!pattern.structured()) {
            throw new IllegalArgumentException("per-row masks are counted by the statistics, not here");
        }
        jsc.setJobDescription("layerscope: Wanda N:M masks on outlier channels of " + jobs.size() + " layers");
        // parallelize slices the list into runs of consecutive jobs, and collect keeps their order
        List<Answer> answers = StageTwoSlots.javaTasks(jsc.parallelize(jobs, tasks(jobs.size(), jsc.defaultParallelism())),
                jsc.getConf()).mapPartitions(new Task(modelDir, pattern)).collect();
        answers.forEach(a -> out.put(a.layer(), a.prunedRows()));
        return out;
    }

    static final class Task implements FlatMapFunction<Iterator<Job>, Answer> {
        private static final long serialVersionUID = 1L;
        private final String modelDir;
        private final SparsityPattern pattern;

        Task(String modelDir, SparsityPattern pattern) {
            this.modelDir = modelDir;
            this.pattern = pattern;
        }

        @Override
        public Iterator<Answer> call(Iterator<Job> jobs) {
            return HeapExhaustion.guard(() -> "the masks on outlier channels (the depth tables)", () -> answer(jobs));
        }

        private Iterator<Answer> answer(Iterator<Job> jobs) {
            SweepHooks.inTask().taskStarts("channels");
            Checkpoint ckpt = ExecutorResources.checkpoint(modelDir);
            List<Answer> out = new ArrayList<>();
            while (jobs.hasNext()) {
                Job j = jobs.next();
                PrunableLayer l = j.layer();
                int[] prunedRows;
                try (SafetensorsFile.RowBlocks rows = ckpt.fileOf(l.weightTensor()).rowBlocks(l.weightTensor())) {
                    prunedRows = ChannelPruning.wandaNOfM(rows::read, l.outFeatures(), l.inFeatures(), j.scalerRow(),
                            pattern.n(), pattern.m(), j.channels());
                }
                out.add(new Answer(l.name(), prunedRows));
            }
            return out.iterator();
        }
    }
}
