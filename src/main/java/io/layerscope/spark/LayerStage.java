package io.layerscope.spark;

import io.layerscope.prune.BlockOutlierRatios;
import io.layerscope.results.LayerResult;
import io.layerscope.results.PrunedColumns;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.BlockMaxReduction;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.LayerAnalysisChart;
import io.layerscope.plot.PictureSize;
import ai.djl.Device;
import io.layerscope.llama.DeviceGramProducts;
import io.layerscope.llama.DeviceLayerStatistics;
import io.layerscope.stats.CheckpointWeightRows;
import io.layerscope.stats.GramProducts;
import io.layerscope.stats.GramSums;
import io.layerscope.stats.LayerByProducts;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.TapGram;
import io.layerscope.stats.ThreadFloats;
import io.layerscope.stats.WeightRows;
import io.layerscope.stats.LayerStats;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.LongAccumulator;

/**
 * Stage two: one task per layer. Each reads only its layer's weight (memory-mapped from the
 * safetensors file), takes the layer's scaler_row from a broadcast, computes the statistics and
 * masks (big layers on all of the executor's cores, see {@link #statistics}; or as libtorch operations on
 * the task's device, as --stats-device says), and renders the
 * layer's PNG; the driver gets back statistics rows and PNG bytes.
 */
public final class LayerStage {
    /**
     * Per-layer settings every task needs: the job's calibration and analysis options, the sample and
     * token counts stage one summed, the picture size (null: no pictures), per block the OWL
     * thresholds whose entries above this stage counts (null: the blocks' ratios come from elsewhere),
     * and the columns whose Wanda-pruned rows it counts.
     */
    public record Settings(String modelDir, String modelName, JobOptions.Calibration calibration,
                           JobOptions.Analysis analysis, long nsamples, long ntokens, PictureSize pngSize,
                           double[] blockSparsity, float[][] blockThresholds, OutlierColumns outlierColumns)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        /** The OWL thresholds of a layer's block, or null (lm_head, or not counted here). */
        float[] thresholdsOf(PrunableLayer layer) {
            return blockThresholds != null && layer.block() >= 0 && layer.block() < blockThresholds.length
                    ? blockThresholds[layer.block()] : null;
        }

        /** The sparsity of a layer's masks: its block's under the allocation; lm_head's is --sparsity. */
        double sparsityOf(PrunableLayer layer) {
            return layer.block() >= 0 && layer.block() < blockSparsity.length ? blockSparsity[layer.block()]
                    : analysis.sparsity();
        }
    }

    private LayerStage() {
    }

    /**
     * The statistics (and pictures) of {@code layers}. {@code lastUseOfModel}: no forward follows in this
     * job, so each executor closes its cached model as its first task here starts, and the weights' memory
     * (off the heap; on the device on a GPU executor) is free for this stage's own arrays.
     */
    public static List<LayerResult> run(JavaSparkContext jsc, Settings settings, List<PrunableLayer> layers,
                                        Map<String, float[]> scalerRows, boolean lastUseOfModel,
                                        UnaryOperator<LayerResult> arrived, PrintStream err) {
        return run(jsc, settings, layers, scalerRows, null, lastUseOfModel, arrived, err);
    }

    /**
     * As above, with the output errors of the masks from {@code grams} (Gram matrices of the layers'
     * taps, broadcast once to each executor, or read in place in local mode; null: none). Each result
     * goes through {@code arrived} as it reaches the driver (which writes its picture out), and what
     * that returns is kept.
     */
    public static List<LayerResult> run(JavaSparkContext jsc, Settings settings, List<PrunableLayer> layers,
                                        Map<String, float[]> scalerRows, GramSums grams, boolean lastUseOfModel,
                                        UnaryOperator<LayerResult> arrived, PrintStream err) {
        Broadcast<Map<String, float[]>> rows = jsc.broadcast(scalerRows);
        HeldValues.Shared<GramSums> sharedGrams = grams == null ? null : HeldValues.Shared.of(jsc, grams);
        LongAccumulator done = jsc.sc().longAccumulator("layerscope.layers");
        StageProgress progress = new StageProgress("layer statistics", "layers", layers.size(), done, null, err);
        jsc.sc().addSparkListener(progress);
        try {
            jsc.setJobDescription("layerscope stage 2: statistics of " + layers.size() + " layers");
            JavaRDD<PrunableLayer> tasks = jsc.parallelize(largestFirst(layers), layers.size());
            Optional<StageTwoSlots> slots = StageTwoSlots.of(jsc.getConf(), settings.analysis().statsDevice(), grams != null);
            slots.ifPresent(r -> err.printf("stage 2 tasks: %s, as many at once as the executors' cores allow%n", r.describe()));
            tasks = StageTwoSlots.withRequest(tasks, slots);
            List<LayerResult> results = new ArrayList<>();
            PartitionsInOrder.forEach(tasks.mapPartitions(new LayerTask(settings, rows, sharedGrams, done, lastUseOfModel)),
                    arrived, results::add);
            progress.finish();
            return inOrderOf(layers, results);
        } finally {
            jsc.sc().removeSparkListener(progress);
            rows.destroy();
            if (sharedGrams != null) {
                sharedGrams.close();
            }
        }
    }

    /**
     * The layers by weight size, largest first (stable among equals). Spark starts tasks in partition
     * order, so the largest layer (lm_head: half of all weights in a small model) starts at once
     * instead of running alone at the end while the other cores idle.
     */
    static List<PrunableLayer> largestFirst(List<PrunableLayer> layers) {
        List<PrunableLayer> sorted = new ArrayList<>(layers);
        sorted.sort(Comparator.comparingLong((PrunableLayer l) -> (long) l.outFeatures() * l.inFeatures()).reversed());
        return sorted;
    }

    /** The results in the order of {@code layers} (the model's module order). */
    static List<LayerResult> inOrderOf(List<PrunableLayer> layers, List<LayerResult> results) {
        Map<String, LayerResult> byName = new HashMap<>();
        results.forEach(r -> byName.put(r.layer().name(), r));
        return layers.stream().map(l -> byName.get(l.name())).toList();
    }

    /**
     * Layers of at most this many weight entries (256 MiB as float32) are read whole for the Java
     * statistics, into the task thread's reused array; larger ones (lm_head) a chunk of rows at a
     * time as each pass reaches it. A whole read widens each entry once, a chunked one three times,
     * but needs no array of the layer's size: lm_head's would be fresh memory (1 GiB at
     * Llama-3.2-1B, 2 GiB at 8B) that the kernel zeroes and the collector may copy.
     */
    static final long WHOLE_READ_MAX_ENTRIES = 64L << 20;

    /**
     * Each task thread's weight array, read into again for the next layer. Layers run largest first,
     * so for the Java statistics (which take the first out x in entries of a longer array) a thread
     * allocates it once, at the largest layer read whole; the statistics on the device need an array
     * of the layer's size and replace it when the size steps down (four times for a Llama model).
     * Nothing keeps a weight beyond {@link #analyse}.
     */
    private static final ThreadFloats WEIGHT = new ThreadFloats();

    /** The statistics (and picture) of one layer, from its weight and scaler_row. */
    static LayerResult analyse(Checkpoint ckpt, Settings s, PrunableLayer layer, float[] scalerRow, double[] gram) {
        long start = System.nanoTime();
        if (statsOnDevice(s, gram)) {
            float[] w = readWeight(ckpt, layer);
            return analyse(s, layer, w, WeightRows.of(w, layer.outFeatures(), layer.inFeatures()), scalerRow,
                    s.sparsityOf(layer), start, gram);
        }
        return analyse(s, layer, null, weightRows(ckpt, layer), scalerRow, s.sparsityOf(layer), start, gram);
    }

    /** The layer's weight for the Java statistics: read whole into the thread's array, or a chunk at a time. */
    static WeightRows weightRows(Checkpoint ckpt, PrunableLayer layer) {
        return weightRows(ckpt, layer, WHOLE_READ_MAX_ENTRIES);
    }

    /** As {@link #weightRows(Checkpoint, PrunableLayer)}, reading layers of at most {@code wholeReadMax} entries whole. */
    static WeightRows weightRows(Checkpoint ckpt, PrunableLayer layer, long wholeReadMax) {
        int out = layer.outFeatures();
        int in = layer.inFeatures();
        long entries = (long) out * in;
        if (entries > wholeReadMax) {
            // no whole read follows in this task (stage two takes lm_head first, sequential mode's
            // last round takes it alone): the thread's array can go
            WEIGHT.release();
            return new CheckpointWeightRows(ckpt, layer.weightTensor(), out, in);
        }
        float[] w = WEIGHT.atLeast((int) entries);
        ckpt.readFloats(layer.weightTensor(), 0, (int) entries, w);
        return WeightRows.of(w, out, in);
    }

    /** Whether this task's statistics run as libtorch operations (--stats-device; not with output errors). */
    static boolean statsOnDevice(Settings s, double[] gram) {
        return gram == null && s.analysis().statsDevice().onDevice(ExecutorResources.taskDevice());
    }

    /** The layer's weight as float32, in the calling thread's last weight array if that has the same size. */
    static float[] readWeight(Checkpoint ckpt, PrunableLayer layer) {
        int entries = Math.multiplyExact(layer.outFeatures(), layer.inFeatures());
        float[] w = WEIGHT.exactly(entries);
        ckpt.readFloats(layer.weightTensor(), 0, entries, w);
        return w;
    }

    /** {@link #analyse(Checkpoint, Settings, PrunableLayer, float[], double[])} over a weight already read, masks at {@code sparsity}. */
    static LayerResult analyse(Settings s, PrunableLayer layer, float[] w, float[] scalerRow, double sparsity, long start) {
        return analyse(s, layer, w, WeightRows.of(w, layer.outFeatures(), layer.inFeatures()), scalerRow, sparsity,
                start, null);
    }

    /**
     * As {@link #analyse(Settings, PrunableLayer, float[], float[], double, long)} over a weight handed
     * out a chunk at a time; the statistics on the device need the whole weight as an array instead.
     */
    static LayerResult analyse(Settings s, PrunableLayer layer, WeightRows w, float[] scalerRow, double sparsity,
                               long start) {
        if (!statsOnDevice(s, null)) {
            return analyse(s, layer, null, w, scalerRow, sparsity, start, null);
        }
        if (w instanceof WeightRows.ArrayRows a && a.values().length == (long) layer.outFeatures() * layer.inFeatures()) {
            return analyse(s, layer, a.values(), w, scalerRow, sparsity, start, null);
        }
        throw new IllegalArgumentException("the statistics on the device need " + layer.name() + " as one array of its size");
    }

    /** {@code w}: the whole weight, or null when the statistics run in Java (which read {@code rows}). */
    private static LayerResult analyse(Settings s, PrunableLayer layer, float[] w, WeightRows rows, float[] scalerRow,
                                       double sparsity, long start, double[] gram) {
        LayerStats stats;
        Device device = ExecutorResources.taskDevice();
        float[] thresholds = s.thresholdsOf(layer);
        boolean pictures = s.pngSize() != null;
        // the Java statistics' passes also count above the block thresholds and take the heatmaps' maxima
        LayerByProducts byProducts = null;
        int[] columns = s.outlierColumns().of(layer);
        int[] prunedRows = null;
        if (statsOnDevice(s, gram)) {
            DeviceLayerStatistics.Result r = GpuStatisticsPlaces.hold(device, () -> DeviceLayerStatistics.compute(device,
                    layer.name(), w, layer.outFeatures(), layer.inFeatures(), scalerRow, sparsity,
                    DeviceLayerStatistics.blockEntries(device), columns));
            stats = r.stats();
            prunedRows = r.wandaPrunedRows();
        } else {
            byProducts = byProducts(layer, thresholds, pictures);
            if (columns != null) {
                byProducts.wandaPrunedRows(columns);
            }
            if (gram == null) {
                stats = statistics(layer, rows, scalerRow, sparsity, null, byProducts);
            } else {
                // not in GpuStatisticsPlaces: the products live through the Java statistics' passes, whose
                // CPU work a place would hold back; they take G's lower half, not a layer's 2.2 GB
                try (DeviceGramProducts products = DeviceGramProducts.on(device, gram)) {
                    stats = statistics(layer, rows, scalerRow, sparsity, products, byProducts);
                }
            }
        }
        io.layerscope.stats.MetricOverflow.check(layer.name(), stats);
        JobOptions.Calibration c = s.calibration();
        LayerAnalysisChart.Pngs png = pictures ? LayerPictures.render(s.modelName(), layer, w, stats,
                byProducts == null ? null : LayerPictures.heatmaps(byProducts),
                new CalibrationSummary(c.source(), (int) s.nsamples(), c.seqlen(), c.seed()), s.nsamples(), s.pngSize())
                : null;
        if (columns != null && byProducts != null) {
            prunedRows = byProducts.wandaPrunedRows();
        }
        long[] above = null;
        if (thresholds != null && byProducts != null) {
            above = byProducts.wandaAboveCounts();
        } else if (thresholds != null) {
            above = new long[thresholds.length];
            BlockOutlierRatios.countAbove(w, layer.outFeatures(), layer.inFeatures(),
                    io.layerscope.stats.ActivationNorms.of(scalerRow), thresholds, above);
        }
        LayerResult r = new LayerResult(layer, stats, scalerRow, s.nsamples(), s.ntokens(),
                png == null ? null : png.picture(), png == null ? null : png.thumbnail(), (System.nanoTime() - start) / 1e9)
                .withAboveBlockThresholds(above).withPrunedColumns(columns == null ? null : new PrunedColumns(columns, prunedRows));
        return gram == null ? r : r.withTapGram(TapGram.of(gram));
    }

    /**
     * A big layer's statistics run on the executor's shared {@link StatisticsThreads} pool, so its
     * task may use more than the one core Spark gave it. That is on purpose: {@link #largestFirst}
     * starts the big layers first, and once the many small layers are done their cores would idle
     * while lm_head (three quarters of a small model's weights) still runs alone on one. The pool has
     * one thread per executor core and the task thread only merges, so the total work is unchanged;
     * while small-layer tasks still run, the pool's threads merely share the cores with them. The
     * result is bit for bit the one-thread result (LayerStatistics merges chunks in a fixed order).
     * Small layers stay on the task thread: they are many, and already parallel as tasks.
     * {@code gram} and {@code byProducts} may be null.
     */
    static LayerStats statistics(PrunableLayer layer, WeightRows w, float[] scalerRow, double sparsity, GramProducts gram,
                                 LayerByProducts byProducts) {
        return LayerStatistics.compute(layer.name(), w, scalerRow, sparsity,
                StatisticsThreads.worthAPool(w.out(), w.in()) ? StatisticsThreads.pool() : null, gram, byProducts);
    }

    /**
     * What the statistics' passes compute for the stage besides: counts above the block thresholds
     * (null: none) and, for a picture, the heatmaps' block maxima, in {@link BlockMaxReduction}'s cells.
     */
    static LayerByProducts byProducts(PrunableLayer layer, float[] thresholds, boolean picture) {
        LayerByProducts byProducts = new LayerByProducts();
        if (thresholds != null) {
            byProducts.wandaAbove(thresholds);
        }
        if (picture) {
            byProducts.blockMaxima(BlockMaxReduction.blockSize(layer.outFeatures(), BlockMaxReduction.DEFAULT_MAX_CELLS),
                    BlockMaxReduction.blockSize(layer.inFeatures(), BlockMaxReduction.DEFAULT_MAX_CELLS));
        }
        return byProducts;
    }

    static final class LayerTask implements FlatMapFunction<Iterator<PrunableLayer>, LayerResult> {
        private static final long serialVersionUID = 1L;
        private final Settings settings;
        private final Broadcast<Map<String, float[]>> scalerRows;
        private final HeldValues.Shared<GramSums> grams;
        private final LongAccumulator done;
        private final boolean lastUseOfModel;

        LayerTask(Settings settings, Broadcast<Map<String, float[]>> scalerRows, HeldValues.Shared<GramSums> grams,
                  LongAccumulator done, boolean lastUseOfModel) {
            this.settings = settings;
            this.scalerRows = scalerRows;
            this.grams = grams;
            this.done = done;
            this.lastUseOfModel = lastUseOfModel;
        }

        @Override
        public Iterator<LayerResult> call(Iterator<PrunableLayer> layers) {
            String[] current = {null};
            return HeapExhaustion.guard(() -> "stage two" + (current[0] == null ? "" : ", layer " + current[0]), () -> {
                SweepHooks.inTask().taskStarts("layer");
                ExecutorResources.configureThreads();
                if (lastUseOfModel) {
                    ExecutorResources.releaseModels();
                }
                Checkpoint ckpt = ExecutorResources.checkpoint(settings.modelDir());
                java.util.ArrayList<LayerResult> out = new java.util.ArrayList<>();
                while (layers.hasNext()) {
                    PrunableLayer layer = layers.next();
                    current[0] = layer.name();
                    float[] row = scalerRows.value().get(layer.tapKey());
                    if (row == null) {
                        throw new IllegalStateException("no scaler_row for tap " + layer.tapKey() + " of " + layer.name());
                    }
                    out.add(analyse(ckpt, settings, layer, row, grams == null ? null : grams.value().matrix(layer.tapKey())));
                    done.add(1);
                }
                return out.iterator();
            });
        }
    }
}
