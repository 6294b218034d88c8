package io.layerscope.spark;

import com.sun.management.OperatingSystemMXBean;
import io.layerscope.bench.BenchWorkload;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.PictureSize;
import io.layerscope.stats.CheckpointWeightRows;
import io.layerscope.stats.LayerByProducts;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.LayerStats;
import io.layerscope.stats.StageTwoBase;
import io.layerscope.stats.WeightRows;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * Seconds of stage two (every prunable layer's statistics, masks, agreements and picture) over a
 * checkpoint, without Spark and without a forward: the layers run largest first on as many task
 * threads as the executor has cores, each reading its weight from the checkpoint, with big layers
 * on a shared statistics pool, as {@link LayerStage} does on an executor. The scaler_rows are
 * synthetic (log-normal, with a few outlier features), fixed by a seed, so every run sees the same.
 *
 * <p>Variants, side by side in rounds (each round starts at another variant, so they share the
 * machine's load): {@code base} (the statistics and the distributions' counting as of commit
 * 52c4d48, in {@link StageTwoBase}), {@code now} ({@link LayerStatistics} over each weight read
 * whole into an array of its size), {@code rows} (over the weight as stage two reads it,
 * {@link LayerStage#weightRows}) and {@code chunks} (every layer read a chunk at a time). One JVM
 * touches fresh memory only in its first round: a sweep's is always its first. The variants of
 * earlier figures are in git history: {@code before} (481f041's statistics) in
 * src/test/java/io/layerscope/stats/StageTwoBefore.java at commit eff057f, {@code main} (832c133's)
 * in StageTwoMain.java at commit ceed000. Every variant's statistics of
 * every layer must equal the first variant's (checked in the first round).
 *
 * <p>Not a unit test; run it as {@code io.layerscope.llama.LlamaForwardBenchmark}'s header says,
 * with this class name, {@code -Xmx4g -XX:+UseParallelGC} (the sweep's executor settings) and
 * optionally: a model directory (default {@code /tmp/layerscope-llama-1b}, where the
 * Llama-3.2-1B-shaped model of {@link BenchWorkload#llama1bShapedModel()} is written when absent:
 * 2.47 GB, never commit it), the number of rounds (default 3), {@code png} or {@code nopng}
 * (default png), the variants (default {@code base,now}) and the number of task threads (default
 * 2).
 */
final class StageTwoBenchmark {
    /** Task-thread seconds in reading weights, statistics and pictures, summed over the layers of a run. */
    private static final java.util.concurrent.atomic.LongAdder[] PHASES = {new java.util.concurrent.atomic.LongAdder(),
            new java.util.concurrent.atomic.LongAdder(), new java.util.concurrent.atomic.LongAdder()};

    private StageTwoBenchmark() {
    }

    /** A way to compute one layer's statistics; pool null: on the calling thread; by-products filled if it can. */
    interface Statistics {
        LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity, ForkJoinPool pool,
                           LayerByProducts byProducts);
    }

    /** The current statistics over the weight as {@code weight} hands it out, instead of one whole array. */
    interface RowStatistics extends Statistics {
        WeightRows weight(Checkpoint ckpt, PrunableLayer layer);

        @Override
        default LayerStats compute(String layer, float[] w, int out, int in, float[] scalerRow, double sparsity,
                                   ForkJoinPool pool, LayerByProducts byProducts) {
            throw new UnsupportedOperationException("reads its own weight");
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/layerscope-llama-1b");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        boolean png = args.length <= 2 || !args[2].equals("nopng");
        List<String> keys = List.of((args.length > 3 ? args[3] : "base,now").split(","));
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            long t = System.nanoTime();
            BenchWorkload.llama1bShapedModel().write(dir);
            System.out.printf("wrote the Llama-3.2-1B-shaped checkpoint into %s in %.1f s%n", dir, (System.nanoTime() - t) / 1e9);
        }
        Checkpoint ckpt = Checkpoint.open(dir);
        List<PrunableLayer> layers = LayerStage.largestFirst(ckpt.prunableLayers());
        Map<String, float[]> scalerRows = scalerRows(layers);
        ForkJoinPool pool = StatisticsThreads.newPool(threads);
        ExecutorService tasks = Executors.newFixedThreadPool(threads);
        Map<String, LayerStats> expected = new ConcurrentHashMap<>();
        Map<String, List<double[]>> seconds = new LinkedHashMap<>();
        System.out.printf("%s: %d layers, %d task threads, pictures %s, variants %s%n", dir, layers.size(), threads,
                png ? "on" : "off", keys);
        try {
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < keys.size(); k++) {
                    String key = keys.get((r + k) % keys.size());
                    Statistics statistics = variant(key);
                    boolean check = r == 0;
                    String load = loadAverage();
                    for (java.util.concurrent.atomic.LongAdder a : PHASES) {
                        a.reset();
                    }
                    long cpu0 = processCpuNanos();
                    long t0 = System.nanoTime();
                    ConcurrentLinkedQueue<PrunableLayer> queue = new ConcurrentLinkedQueue<>(layers);
                    Map<String, LayerStats> results = new ConcurrentHashMap<>();
                    List<Future<?>> running = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        running.add(tasks.submit(() -> {
                            for (PrunableLayer layer; (layer = queue.poll()) != null; ) {
                                LayerStats s = analyse(ckpt, layer, scalerRows.get(layer.tapKey()), statistics, pool, png);
                                if (check) {
                                    results.put(layer.name(), s);
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : running) {
                        f.get();
                    }
                    double secs = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("         task threads' seconds: reading %.2f, statistics %.2f, pictures %.2f%n",
                            PHASES[0].sumThenReset() / 1e9, PHASES[1].sumThenReset() / 1e9, PHASES[2].sumThenReset() / 1e9);
                    double cpu = (processCpuNanos() - cpu0) / 1e9;
                    seconds.computeIfAbsent(key, x -> new ArrayList<>()).add(new double[] {secs, cpu});
                    System.out.printf("round %d  %-8s %7.2f s  (process CPU %7.2f s)  load avg %s%n", r + 1, key, secs, cpu,
                            load);
                    if (check) {
                        compare(key, results, expected, layers);
                    }
                }
            }
        } finally {
            tasks.shutdown();
            pool.shutdown();
        }
        for (Map.Entry<String, List<double[]>> e : seconds.entrySet()) {
            StringBuilder b = new StringBuilder();
            for (double[] s : e.getValue()) {
                b.append(String.format("%.2f (%.1f CPU)  ", s[0], s[1]));
            }
            System.out.printf("%-8s %s%n", e.getKey(), b);
        }
    }

    private static LayerStats analyse(Checkpoint ckpt, PrunableLayer layer, float[] scalerRow, Statistics statistics,
                                      ForkJoinPool pool, boolean png) {
        long t0 = System.nanoTime();
        int out = layer.outFeatures();
        int in = layer.inFeatures();
        // the rows variants read as their passes go: their reading counts as statistics
        float[] w = statistics instanceof RowStatistics ? null : LayerStage.readWeight(ckpt, layer);
        long t1 = System.nanoTime();
        LayerByProducts byProducts = LayerStage.byProducts(layer, null, png);
        ForkJoinPool layerPool = StatisticsThreads.worthAPool(out, in) ? pool : null;
        LayerStats s = statistics instanceof RowStatistics rows
                ? LayerStatistics.compute(layer.name(), rows.weight(ckpt, layer), scalerRow,
                        LayerStatistics.DEFAULT_SPARSITY, layerPool, null, byProducts)
                : statistics.compute(layer.name(), w, out, in, scalerRow, LayerStatistics.DEFAULT_SPARSITY, layerPool,
                        byProducts);
        long t2 = System.nanoTime();
        if (png) {
            LayerPictures.render("bench", layer, w, s, LayerPictures.heatmaps(byProducts),
                    new CalibrationSummary("demo", 8, 256, 0), 8, PictureSize.DEFAULT);
        }
        long t3 = System.nanoTime();
        PHASES[0].add(t1 - t0);
        PHASES[1].add(t2 - t1);
        PHASES[2].add(t3 - t2);
        if (layer.outFeatures() > 100_000) {
            System.out.printf("         %s: read %.2f s, statistics %.2f s, picture %.2f s%n", layer.name(), (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9, (t3 - t2) / 1e9);
        }
        return s;
    }

    private static void compare(String key, Map<String, LayerStats> results, Map<String, LayerStats> expected,
                                List<PrunableLayer> layers) {
        if (expected.isEmpty()) {
            expected.putAll(results);
            return;
        }
        for (PrunableLayer layer : layers) {
            if (!results.get(layer.name()).equals(expected.get(layer.name()))) {
                throw new IllegalStateException(key + " gave other statistics for " + layer.name() + ": "
                        + results.get(layer.name()) + " vs " + expected.get(layer.name()));
            }
        }
        System.out.printf("         %s: statistics of all %d layers equal the first variant's%n", key, layers.size());
    }

    private static Statistics variant(String key) {
        return switch (key) {
            // base takes no by-products: its pictures reduce the weight themselves, as they did
            case "base" -> (layer, w, out, in, scalerRow, sparsity, pool, byProducts) -> pool == null
                    ? StageTwoBase.compute(layer, w, out, in, scalerRow, sparsity)
                    : StageTwoBase.compute(layer, w, out, in, scalerRow, sparsity, pool);
            // whole weights in arrays of their own size (stage two before 474df6d)
            case "now" -> (layer, w, out, in, scalerRow, sparsity, pool, byProducts) ->
                    LayerStatistics.compute(layer, w, out, in, scalerRow, sparsity, pool, null, byProducts);
            // as stage two reads since 474df6d: whole up to its limit (one array per thread), larger layers by chunks
            case "rows" -> (RowStatistics) LayerStage::weightRows;
            // every layer by chunks
            case "chunks" -> (RowStatistics) (ckpt, layer) -> new CheckpointWeightRows(ckpt, layer.weightTensor(),
                    layer.outFeatures(), layer.inFeatures());
            default -> throw new IllegalArgumentException("unknown variant " + key + " (base, now, rows, chunks)");
        };
    }

    /** Per tap: log-normal means of squared activations, a few features a hundred times larger (as real taps have). */
    private static Map<String, float[]> scalerRows(List<PrunableLayer> layers) {
        Map<String, float[]> rows = new HashMap<>();
        for (PrunableLayer layer : layers) {
            rows.computeIfAbsent(layer.tapKey(), key -> {
                SplittableRandom random = new SplittableRandom(key.hashCode());
                float[] row = new float[layer.inFeatures()];
                for (int j = 0; j < row.length; j++) {
                    row[j] = (float) Math.exp(random.nextGaussian() * 1.5 - 2);
                }
                for (int o = 0; o < 7; o++) {
                    row[random.nextInt(row.length)] *= 300;
                }
                return row;
            });
        }
        return rows;
    }

    private static long processCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
