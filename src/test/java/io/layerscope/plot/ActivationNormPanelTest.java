package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.stats.Histogram;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.junit.jupiter.api.Test;

class ActivationNormPanelTest {
    private static final Histogram BINS = Histogram.of(new double[] {0.1, 1, 10}, new long[] {3, 4});

    private static LayerPlotData withNorms(float... norm) {
        ReducedMatrix m = new ReducedMatrix(new float[norm.length], 1, norm.length, 1, 1);
        return LayerPlotData.builder().model("m").layer("l").shape(1, norm.length)
                .calibration(new CalibrationSummary("c4", 1, 8, 0)).heatmaps(new LayerHeatmaps(m, m))
                .activationNorm(norm).weight(BINS, Map.of()).activation(BINS, Map.of()).wanda(BINS, Map.of()).build();
    }

    @Test
    void largestFeaturesLowerIndexFirstOnTies() {
        LayerPlotData d = withNorms(1, 9, 3, 9, 0.5f, 7, 2);
        assertArrayEquals(new int[] {1, 3, 5, 2}, ActivationNormPanel.largest(d, 4));
    }

    @Test
    void logAxisOnlyForPositiveNormsSpanningTwoDecades() {
        assertTrue(ActivationNormPanel.logarithmicY(withNorms(0.5f, 1, 51)));
        assertFalse(ActivationNormPanel.logarithmicY(withNorms(0.5f, 1, 50)));
        assertFalse(ActivationNormPanel.logarithmicY(withNorms(0, 1, 500)));
        FigureStyle style = new FigureStyle(2400);
        assertTrue(ActivationNormPanel.chart("t", withNorms(0.5f, 1, 51), style).getXYPlot().getRangeAxis() instanceof LogAxis);
        assertTrue(ActivationNormPanel.chart("t", withNorms(0, 1, 500), style).getXYPlot().getRangeAxis() instanceof NumberAxis);
    }

    @Test
    void labelsTheLargestFeaturesUnlessCrowded() {
        float[] norm = new float[100];
        java.util.Arrays.fill(norm, 1);
        norm[10] = 50;
        norm[12] = 48;     // within 8% of feature 10 in x and 6% of the y range (0 to 57.5): marked, not labelled
        norm[60] = 30;
        norm[90] = 20;
        JFreeChart chart = ActivationNormPanel.chart("t", withNorms(norm), new FigureStyle(2400));
        List<String> labels = chart.getXYPlot().getAnnotations().stream()
                .map(a -> ((XYTextAnnotation) a).getText().strip()).collect(Collectors.toList());
        assertEquals(List.of("10", "60", "90", "0"), labels);   // 0: first of the ties at 1
        assertEquals(5, chart.getXYPlot().getDataset().getItemCount(1));
    }

    @Test
    void aNeighbourFarBelowInTheLineKeepsItsLabel() {
        float[] norm = new float[100];
        java.util.Arrays.fill(norm, 1);
        norm[10] = 50;
        norm[14] = 30;     // close in x, but 35% of the y range lower: its label does not touch 10's
        norm[60] = 20;
        norm[90] = 10;
        JFreeChart chart = ActivationNormPanel.chart("t", withNorms(norm), new FigureStyle(2400));
        List<String> labels = chart.getXYPlot().getAnnotations().stream()
                .map(a -> ((XYTextAnnotation) a).getText().strip()).collect(Collectors.toList());
        assertEquals(List.of("10", "14", "60", "90", "0"), labels);
    }

    @Test
    void aLongLineKeepsEachBucketsEndsAndExtremesAndAShortOneEveryPoint() {
        float[] small = new float[1408];
        java.util.Arrays.fill(small, 1);
        assertEquals(1408, ActivationNormPanel.linePoints(withNorms(small), 960).length);

        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        float[] norm = new float[14336];
        for (int j = 0; j < norm.length; j++) {
            norm[j] = (float) random.nextDouble(0.5, 2);
        }
        norm[4097] = 300;   // an outlier feature
        norm[9000] = 0.01f;
        int buckets = 960;
        int[] kept = ActivationNormPanel.linePoints(withNorms(norm), buckets);
        assertTrue(kept.length <= 4 * buckets && kept.length < norm.length, "points: " + kept.length);
        java.util.Set<Integer> set = java.util.Arrays.stream(kept).boxed().collect(Collectors.toSet());
        for (int i = 1; i < kept.length; i++) {
            assertTrue(kept[i - 1] < kept[i], "in index order");
        }
        // every bucket (computed here independently) keeps its first, last, smallest and largest feature
        java.util.TreeSet<Integer> expected = new java.util.TreeSet<>();
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * norm.length / buckets);
            int to = (int) ((long) (b + 1) * norm.length / buckets);
            int lo = from;
            int hi = from;
            for (int j = from; j < to; j++) {
                lo = norm[j] < norm[lo] ? j : lo;
                hi = norm[j] > norm[hi] ? j : hi;
            }
            for (int j : new int[] {from, to - 1, lo, hi}) {
                assertTrue(set.contains(j), "bucket " + b + " lacks feature " + j);
                expected.add(j);
            }
        }
        assertEquals(List.copyOf(expected), java.util.Arrays.stream(kept).boxed().toList(), "those and nothing else");
        assertTrue(set.contains(4097) && set.contains(9000) && set.contains(0) && set.contains(norm.length - 1));
        JFreeChart chart = ActivationNormPanel.chart("t", withNorms(norm), new FigureStyle(2400));
        assertEquals(kept.length, chart.getXYPlot().getDataset().getItemCount(0));
        assertEquals(300, chart.getXYPlot().getDataset().getYValue(1, 0), 1e-9, "the largest feature is still marked");
    }
}
