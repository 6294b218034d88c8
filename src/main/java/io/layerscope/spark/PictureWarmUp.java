package io.layerscope.spark;

import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.LayerAnalysisChart;
import io.layerscope.plot.PictureSize;
import io.layerscope.stats.LayerByProducts;
import io.layerscope.stats.LayerStats;
import io.layerscope.stats.WeightRows;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Throwaway pictures of a small synthetic layer, drawn once per JVM on a background thread as the
 * job starts. A JVM's first pictures cost several times a warm one (Java2D, fonts, the rasteriser
 * and JFreeChart load and run interpreted until the JIT compiles them); drawn in stage two, that
 * cost lands on the stage's busiest cores. Drawn here, after the model's own warm-up, it overlaps
 * the driver's sampling and the start of stage one, where the cores have slack. Nothing drawn
 * here is kept, and no picture of the job depends on it (paired sweeps give identical PNGs).
 *
 * <pre>{@code
 * PictureWarmUp.startOnce(PictureSize.DEFAULT);   // once the model is warm; returns at once
 * }</pre>
 */
final class PictureWarmUp {
    /** How many pictures: the first pays the loading, the second runs what the first left interpreted. */
    static final int PICTURES = 2;
    private static final int SIDE = 512;
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private PictureWarmUp() {
    }

    /**
     * Starts drawing on a daemon thread unless this JVM has started before; {@code size} null (no
     * pictures in this job) does nothing. Best effort: a failure here is left for stage two to meet.
     *
     * @return whether this call started the thread
     */
    static boolean startOnce(PictureSize size) {
        if (size == null || !STARTED.compareAndSet(false, true)) {
            return false;
        }
        Thread t = new Thread(bestEffort(() -> draw(PICTURES, size)), "layerscope-picture-warm-up");
        t.setDaemon(true);
        t.start();
        return true;
    }

    /**
     * {@code drawing}, whose failure stage two meets again with the real pictures and reports. Running
     * out of heap included: uncaught, Spark's handler would end the whole executor (exit 52) and the
     * task running beside it, with no reason the user sees (a large --png-size on a small heap). (On
     * YARN Spark starts executors with -XX:OnOutOfMemoryError='kill %p', which ends them all the same.)
     */
    static Runnable bestEffort(Runnable drawing) {
        return () -> {
            try {
                drawing.run();
            } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
                // left for stage two
            }
        };
    }

    /** Draws {@code pictures} pictures of a {@value #SIDE}-square random layer as stage two would; returns the last. */
    static LayerAnalysisChart.Pngs draw(int pictures, PictureSize size) {
        SplittableRandom random = new SplittableRandom(1);
        float[] weight = new float[SIDE * SIDE];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) (random.nextDouble() - 0.5);
        }
        float[] scalerRow = new float[SIDE];
        for (int i = 0; i < SIDE; i++) {
            scalerRow[i] = (float) (random.nextDouble() + 0.1);
        }
        PrunableLayer layer = new PrunableLayer("model.layers.0.mlp.up_proj", 0, LayerKind.UP_PROJ, SIDE, SIDE,
                "model.layers.0.mlp.up_proj.weight");
        LayerAnalysisChart.Pngs last = null;
        for (int p = 0; p < pictures; p++) {
            LayerByProducts byProducts = LayerStage.byProducts(layer, null, true);
            LayerStats stats = LayerStage.statistics(layer, WeightRows.of(weight, SIDE, SIDE), scalerRow, 0.5, null, byProducts);
            last = LayerPictures.render("warm-up", layer, weight, stats, LayerPictures.heatmaps(byProducts),
                    new CalibrationSummary("c4", 1, SIDE, 0), 1, size);
        }
        return last;
    }
}
