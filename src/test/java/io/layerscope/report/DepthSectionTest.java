package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.results.DepthTables.OutlierFeatureRow;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.Peak;
import io.layerscope.stats.SuperWeight;
import java.util.List;
import org.junit.jupiter.api.Test;

class DepthSectionTest {
    static final Peak IN = new Peak(90f, 3, 0, 200);
    static final Peak OUT = new Peak(1500f, 3, 0, 11);

    static DepthSummary summary(boolean prunedByWanda) {
        BlockDepth b0 = new BlockDepth(0, 0.25, 0.3, OUT, new double[] {1500, 2, 1}, 0.5, true, IN, OUT);
        BlockDepth b1 = new BlockDepth(1, 0.05, 0.1, new Peak(1400f, 3, 0, 11), new double[] {1400, 2, 1}, 0.5, true, IN, OUT);
        SuperWeight w = new SuperWeight(0, IN, OUT, -40f, 1, prunedByWanda, false, false, 0.5);
        return new DepthSummary(List.of(b0, b1), List.of(new BlockDistance(0, 1, 0.3, 1), new BlockDistance(1, 1, 0.1, 1),
                new BlockDistance(0, 2, 0.35, 0)), List.of(w),
                List.of(new OutlierFeatureRow("ATTN_IN", "q_proj,k_proj,v_proj", 7, 1.0, 0.5, new int[] {0, 1},
                        List.of("model.layers.1.self_attn.q_proj"), 0.0625)));
    }

    @Test
    void aSuperWeightAMaskPrunesIsAWarningAndTheTablesAreListed() throws Exception {
        String html = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(SyntheticReport.sweep(2)),
                summary(true));
        XmlPage page = new XmlPage(html);   // well-formed
        assertTrue(html.contains("Warning: super-weight candidate model.layers.0.mlp.down_proj.weight[11, 200] = -40.00"
                + " (rank 1 by |W| in its row) would be pruned by Wanda per-row at sparsity 0.5000."), html);
        assertEquals(2, page.all("//table[@id='blocks']/tbody/tr").size());
        assertEquals(2, page.all("//table[@id='block-ranges']/tbody/tr").size());   // the best start of each span
        assertTrue(html.contains("model.layers.1.self_attn.q_proj"));
        assertEquals(List.of("ATTN_IN (q_proj,k_proj,v_proj)", "7", "1.000", "0.5000", "0.06250", "model.layers.1.self_attn.q_proj"),
                page.all("//table[@id='outlier-features']/tbody/tr/td").stream().map(n -> n.getTextContent()).toList());
        assertEquals("From the dense model's calibration forward.",
                page.one("//p[@id='depth-stream']").getTextContent());
    }

    /** A feature no mask prunes says "none"; one whose tap no analysed layer reads says that, not "none". */
    @Test
    void aFeatureNoAnalysedLayerReadsIsNotSaidSpared() throws Exception {
        DepthSummary one = summary(false);
        DepthSummary two = new DepthSummary(one.blocks(), one.distances(), one.superWeights(), List.of(
                new OutlierFeatureRow("ATTN_IN", "q_proj,k_proj,v_proj", 7, 1.0, 0.5, new int[] {0, 1}, List.of(), 0.0),
                new OutlierFeatureRow("MLP_ACT", "down_proj", 9, 1.0, 0.4, new int[] {0, 1}, List.of(), null)), false);
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"),
                SyntheticReport.withoutPictures(SyntheticReport.sweep(2)), two));
        assertEquals(List.of("ATTN_IN (q_proj,k_proj,v_proj)", "7", "1.000", "0.5000", "0.000", "none",
                        "MLP_ACT (down_proj)", "9", "1.000", "0.4000", "-", "no layer analysed reads it"),
                page.all("//table[@id='outlier-features']/tbody/tr/td").stream().map(n -> n.getTextContent()).toList());
    }

    /**
     * Thousands of features (a random model's): the report lists the 50 in the most blocks (then at the
     * most positions), with four layer names each.
     */
    @Test
    void manyOutlierFeaturesAreCutToTheMostPersistent() throws Exception {
        DepthSummary one = summary(false);
        List<String> layers = List.of("model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj",
                "model.layers.2.mlp.down_proj", "model.layers.3.mlp.down_proj", "model.layers.4.mlp.down_proj",
                "model.layers.5.mlp.down_proj");
        List<OutlierFeatureRow> features = new java.util.ArrayList<>();
        for (int c = 0; c < 60; c++) {
            // channels 0-9 in a quarter of the blocks, at the most positions: left out; the rest by position
            features.add(new OutlierFeatureRow("MLP_ACT", "down_proj", c, c < 10 ? 0.25 : 1.0, c < 10 ? 0.9 : c / 100.0,
                    new int[] {0}, layers, 0.5));
        }
        DepthSummary many = new DepthSummary(one.blocks(), one.distances(), one.superWeights(), features, false);
        String html = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(SyntheticReport.sweep(2)),
                many);
        XmlPage page = new XmlPage(html);
        List<org.w3c.dom.Element> rows = page.all("//table[@id='outlier-features']/tbody/tr");
        assertEquals(50, rows.size());
        // in every block first, by share of positions, largest first: channels 59 down to 10
        assertEquals("59", page.one("//table[@id='outlier-features']/tbody/tr[1]/td[2]").getTextContent());
        assertEquals("10", page.one("//table[@id='outlier-features']/tbody/tr[50]/td[2]").getTextContent());
        assertEquals("model.layers.0.mlp.down_proj, model.layers.1.mlp.down_proj, model.layers.2.mlp.down_proj,"
                + " model.layers.3.mlp.down_proj and 2 more",
                page.one("//table[@id='outlier-features']/tbody/tr[1]/td[6]").getTextContent());
        assertTrue(html.contains("here the 50 of 60 in the most blocks, then at the most positions"), "the cut is said");
    }

    @Test
    void aSequentialRunSaysItsTablesComeFromThePrunedStream() throws Exception {
        DepthSummary dense = summary(false);
        DepthSummary pruned = new DepthSummary(dense.blocks(), dense.distances(), dense.superWeights(),
                dense.outlierFeatures(), true);
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"),
                SyntheticReport.withoutPictures(SyntheticReport.sweep(2)), pruned));
        String stream = page.one("//p[@id='depth-stream']").getTextContent();
        assertTrue(stream.startsWith("Sequential run: the residual stream here is the pruned model's"), stream);
    }

    @Test
    void noWarningWhenNoMaskPrunesTheCandidate() {
        String html = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(SyntheticReport.sweep(2)),
                summary(false));
        assertTrue(!html.contains("Warning:"));
        assertTrue(html.contains("<td>none</td>"));
    }
}
