package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.plot.LayerSummary;
import io.layerscope.plot.TestSummaries;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class HtmlReportTest {
    private static final String ROWS = "//table[@id='layer-table']/tbody/tr";

    /** The layers with pictures at the paths SweepReport would use, thumbnails beside them. */
    private static List<ReportedLayer> pictured(List<LayerSummary> layers) {
        return layers.stream().map(s -> new ReportedLayer(s, "png/layer_analysis_" + s.layer() + ".png",
                "png/thumbs/layer_analysis_" + s.layer() + ".png")).toList();
    }

    @Test
    void oneRowPerLayerInModelOrderAndOneFigurePerPicture() throws Exception {
        List<LayerSummary> layers = SyntheticReport.sweep(3);
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"), pictured(layers)));
        assertEquals(22, page.all(ROWS).size());
        assertEquals(layers.stream().map(LayerSummary::layer).toList(), page.texts(ROWS + "/td[1]"));
        assertEquals(List.of("layer", "block", "kind", "weights", "act_norm_mean", "wanda_mean", "agree_wanda_magnitude_row",
                        "agree_wanda_magnitude_layer", "agree_wanda_magnitude_2of4", "outlier_ratio_m3", "outlier_ratio_m5",
                        "outlier_ratio_m7", ""),
                page.attributes("//table[@id='layer-table']/thead/tr/th", "data-key"));
        assertEquals(22, page.all("//section[@id='pictures']//figure").size());
        assertEquals(List.of("block 0", "block 1", "block 2", "head"), page.texts("//section[@id='pictures']//h3"));
        assertEquals(List.of("lm_head"), page.texts("//div[h3='head']//figure//span[@class='kind']"));
    }

    @Test
    void cellsShowRoundedNumbersAndCarryExactOnes() throws Exception {
        List<LayerSummary> layers = SyntheticReport.sweep(3);
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"), pictured(layers)));
        // block 1, v_proj: act 1 + 0.5 + 0.25, Wanda 0.01 * 2 / 3, agree row 0.77, outliers M5 0.001 * 3 * 2
        List<Element> cells = page.all("//tr[@id='row-model.layers.1.self_attn.v_proj']/td");
        assertEquals(List.of("model.layers.1.self_attn.v_proj", "1", "v_proj", "128 \u00d7 128", "1.750", "0.006667",
                        "0.7700", "0.7010", "0.7200", "0.05000", "0.00600", "0.00010", "PNG"),
                cells.stream().map(Element::getTextContent).toList());
        assertEquals(1.75, Double.parseDouble(cells.get(4).getAttribute("data-sort")));
        assertEquals(0.01 * 2 / 3.0, Double.parseDouble(cells.get(5).getAttribute("data-sort")));
        assertEquals("16384", cells.get(3).getAttribute("data-sort"));
        // Bars: share of the column's largest value (lm_head's 12.5 for the activation norm).
        assertEquals("--bar:0.1400", cells.get(4).getAttribute("style"));
        assertEquals("", cells.get(6).getAttribute("style"), "agreements get no bar");

        List<Element> head = page.all("//tr[@id='row-lm_head']/td");
        assertEquals("head", head.get(1).getTextContent());
        assertEquals("3", head.get(1).getAttribute("data-sort"), "lm_head sorts after the last block (2)");
        assertEquals("block = -1 in layers.parquet", head.get(1).getAttribute("title"));
        assertEquals("12.50", head.get(4).getTextContent());
        assertEquals("--kind:#7f7f7f", page.one("//tr[@id='row-lm_head']/td[3]/span").getAttribute("style"));
    }

    @Test
    void missingValuesShowADashAndSortLast() throws Exception {
        LayerSummary nan = TestSummaries.of("model.layers.0.mlp.up_proj", 0, "up_proj", 8, 8, Double.NaN, 0.1, 0.8, 0.8,
                0.8, 0.1, 0.01, 0.0);
        LayerSummary known = TestSummaries.of("model.layers.0.mlp.down_proj", 0, "down_proj", 8, 8, 2.0, 0.1, 0.8, 0.8,
                0.8, 0.1, 0.01, 0.0);
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"),
                SyntheticReport.withoutPictures(List.of(nan, known))));
        Element cell = page.one("(//tbody/tr)[1]/td[5]");
        assertEquals("\u2014", cell.getTextContent());
        assertEquals("", cell.getAttribute("data-sort"));
    }

    @Test
    void aColumnNoLayerHasAValueInIsLeftOut() throws Exception {
        LayerSummary dense = TestSummaries.of("model.layers.0.mlp.up_proj", 0, "up_proj", 8, 8, 1, 0.1, 0.8, 0.8,
                0.8, 0.1, 0.01, 0.0);
        String html = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(List.of(dense)));
        assertFalse(html.contains("data-key=\"drift_mask_agreement\""), "a dense run has no drift column");
        String sequential = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(
                List.of(TestSummaries.with(dense, "drift_mask_agreement", 0.97))));
        assertTrue(sequential.contains("data-key=\"drift_mask_agreement\""));
    }

    @Test
    void textIsEscapedEverywhere() throws Exception {
        String model = "<script>alert(1)</script> & \"quoted\" 'model'";
        LayerSummary odd = TestSummaries.of("model.layers.0.mlp.<b>x</b> & 'y'", 0, "down_proj", 4, 4, 1, 1, 1, 1, 1, 0, 0, 0);
        String html = HtmlReport.render(SyntheticReport.header(model), pictured(List.of(odd)));
        assertFalse(html.contains("<script>alert"));
        assertFalse(html.contains("<b>x"));
        XmlPage page = new XmlPage(html);   // parses: nothing unescaped broke the markup
        assertEquals(model + " \u2014 layerscope sweep", page.one("//title").getTextContent());
        assertEquals(model, page.one("//h1").getTextContent());
        assertEquals(odd.layer(), page.one(ROWS + "/td[1]").getTextContent());
        assertEquals(odd.layer(), page.one("//figure/a").getAttribute("title"));
        assertEquals(1, page.all("//script").size(), "only the page's own script");
        assertEquals(0, page.all("//b").size());
        assertEquals("png/layer_analysis_model.layers.0.mlp.%3Cb%3Ex%3C/b%3E%20%26%20%27y%27.png",
                page.one(ROWS + "/td[last()]/a").getAttribute("href"));
    }

    @Test
    void everyLinkIsRelativeAndEveryFragmentExists() throws Exception {
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"), pictured(SyntheticReport.sweep(2))));
        Set<String> ids = new HashSet<>(page.attributes("//*[@id]", "id"));
        List<String> links = new ArrayList<>(page.attributes("//a", "href"));
        links.addAll(page.attributes("//img", "src"));
        assertEquals(2 + 4 * 15 + 3 + 1, links.size(), "overview link and image; per layer: name, PNG, figure link and image; nav; run.json");
        for (String link : links) {
            assertFalse(link.isEmpty() || link.contains(":") || link.startsWith("/"), "not a relative link: " + link);
            if (link.startsWith("#")) {
                assertTrue(ids.contains(link.substring(1)), "no element with id " + link);
            }
        }
        assertEquals(0, page.all("//link").size(), "no stylesheet or font from elsewhere");
        assertEquals(0, page.all("//script[@src]").size());
        String css = page.one("//style").getTextContent();
        assertFalse(css.contains("url(") || css.contains("@import"), "the CSS loads nothing");
    }

    @Test
    void headerShowsModelCalibrationDetailsAndFiles() throws Exception {
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("meta-llama/Llama-3.2-1B"),
                pictured(SyntheticReport.sweep(1))));
        assertEquals("8 layers \u00b7 dense model, masks at sparsity 0.5 \u00b7 calibration: demo, 8 \u00d7 64 tokens, seed 0",
                page.one("//p[@class='subtitle']").getTextContent());
        assertEquals("layerscope sweep", page.one("//p[@class='eyebrow']").getTextContent());
        assertEquals(List.of("dtype", "Spark master"), page.texts("//dl[@class='meta']//dt"));
        assertEquals(List.of("float32", "local[*]"), page.texts("//dl[@class='meta']//dd"));
        assertEquals("run.json", page.one("//footer//a").getAttribute("href"));
        assertEquals("overview.png", page.one("//section[@id='overview']//img").getAttribute("src"));
    }

    @Test
    void aLayerJobsPageSaysSoAndWhatItsStatisticsSee() throws Exception {
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("layer", "demo",
                "sequential pruning (Wanda's, block by block), 2:4 masks"), pictured(SyntheticReport.sweep(1).subList(0, 1))));
        assertEquals("demo \u2014 layerscope layer", page.one("//title").getTextContent());
        assertEquals("layerscope layer", page.one("//p[@class='eyebrow']").getTextContent());
        assertEquals("1 layer \u00b7 sequential pruning (Wanda's, block by block), 2:4 masks \u00b7 calibration: demo, 8 \u00d7 64 tokens, seed 0",
                page.one("//p[@class='subtitle']").getTextContent());
    }

    @Test
    void withoutPicturesThereIsANoteInsteadOfAGallery() throws Exception {
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"),
                SyntheticReport.withoutPictures(SyntheticReport.sweep(2))));
        assertEquals(15, page.all(ROWS).size());
        assertEquals(0, page.all("//figure").size());
        assertTrue(page.one("//section[@id='pictures']/p[@class='note']").getTextContent().contains("--no-png"));
        assertEquals(12, page.all("//table[@id='layer-table']/thead/tr/th").size(), "no picture column");
        assertEquals(List.of("#overview", "#layers"), page.attributes("//nav/a", "href"));
        assertEquals(0, page.all(ROWS + "//a").size());
    }

    @Test
    void pictureWithoutThumbnailIsShownScaled() throws Exception {
        ReportedLayer l = new ReportedLayer(SyntheticReport.layer(0, 0), "png/q.png");
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"), List.of(l)));
        assertEquals("png/q.png", page.one("//figure//img").getAttribute("src"));
    }

    @Test
    void fragmentNamesAreUnique() {
        LayerSummary a = TestSummaries.of("a/b", 0, "q_proj", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
        LayerSummary b = TestSummaries.of("a_b", 0, "k_proj", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
        LayerSummary c = TestSummaries.of("a b", 0, "v_proj", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
        assertEquals(List.of("a_b", "a_b-2", "a_b-3"),
                HtmlReport.slugs(SyntheticReport.withoutPictures(List.of(a, b, c))));
    }

    @Test
    void noLayersIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> HtmlReport.render(SyntheticReport.header("demo"), List.of()));
        assertEquals("report of demo: no layers to report; the sweep analysed none", e.getMessage());
    }
}
