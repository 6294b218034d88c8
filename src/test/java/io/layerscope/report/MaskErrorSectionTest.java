package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.plot.LayerSummary;
import io.layerscope.plot.TestSummaries;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskErrorSectionTest {
    private static final String BY_KIND = "//table[@id='mask-errors-by-kind']";
    private static final String BY_DEPTH = "//table[@id='mask-errors-by-depth']";

    private static XmlPage page(List<LayerSummary> layers) throws Exception {
        return new XmlPage(HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(layers)));
    }

    @Test
    void meansByKindAndDepthWithTheLeastMarkedAndNamed() throws Exception {
        XmlPage page = page(MaskErrorMeansTest.example());
        assertEquals(List.of("kind", "layers", "Wanda", "magnitude per-row", "magnitude per-layer", "Wanda 2:4", "RIA",
                "least error"), page.texts(BY_KIND + "/thead/tr/th"));
        // the means of MaskErrorMeansTest's example, by hand
        assertEquals(List.of("q_proj", "2", "0.2500", "0.5000", "0.6250", "0.8750", "0.2500", "Wanda"),
                page.texts(BY_KIND + "/tbody/tr[1]/td"));
        assertEquals(List.of("down_proj", "2", "0.5000", "0.2500", "0.2500", "0.8125", "0.3750", "magnitude per-row"),
                page.texts(BY_KIND + "/tbody/tr[2]/td"));
        assertEquals(List.of("lm_head", "1", "0.2500", "0.5000", "0.5000", "0.7500", "0.2500", "Wanda"),
                page.texts(BY_KIND + "/tbody/tr[3]/td"));
        assertEquals(List.of("0.2500", "0.2500", "0.2500"), page.texts(BY_KIND + "//td[@class='num least']"));
        assertEquals(List.of(3, 4, 3), leastPositions(page, BY_KIND), "ties go to the first mask in column order");

        assertEquals("block", page.one(BY_DEPTH + "/thead/tr/th[1]").getTextContent());
        assertEquals(List.of("0", "1", "head"), page.texts(BY_DEPTH + "/tbody/tr/td[1]"));
        assertEquals(List.of("1", "2", "0.5000", "0.5000", "0.5000", "0.9375", "0.2500", "RIA"),
                page.texts(BY_DEPTH + "/tbody/tr[2]/td"));
        assertEquals(List.of("Wanda", "RIA", "Wanda"), page.texts(BY_DEPTH + "/tbody/tr/td[last()]"));
        assertEquals(List.of(3, 7, 3), leastPositions(page, BY_DEPTH));

        String titleOfWanda = page.one(BY_KIND + "/thead/tr/th[3]").getAttribute("title");
        assertTrue(titleOfWanda.startsWith("recon_err_wanda: --gram: the output error of Wanda's per-row mask"), titleOfWanda);
        String hint = page.one("//section[@id='mask-errors']/p[@class='hint']").getTextContent();
        assertTrue(hint.contains("the share of the layer's output energy on the calibration data that the mask removes"), hint);
        assertTrue(hint.contains("docs/METRICS.md, section \u201cThe Gram matrix and the output error of each mask\u201d"), hint);
    }

    @Test
    void theSectionFollowsTheLayerTableAndTheNavigationLinksIt() throws Exception {
        XmlPage page = new XmlPage(HtmlReport.render(SyntheticReport.header("demo"),
                SyntheticReport.withoutPictures(MaskErrorMeansTest.example()), DepthSectionTest.summary(false)));
        assertEquals(List.of("overview", "layers", "mask-errors", "depth", "pictures"), page.attributes("//section", "id"));
        assertEquals(List.of("#overview", "#layers", "#mask-errors", "#depth"), page.attributes("//nav/a", "href"));
        assertEquals("Output error of each mask", page.one("//section[@id='mask-errors']/h2").getTextContent());
        assertTrue(page.attributes("//table[@id='layer-table']/thead/tr/th", "data-key").contains("recon_err_ria"),
                "the layer table keeps its per-layer errors");
    }

    @Test
    void aGroupWithoutErrorsShowsDashesAndPartlyCoveredGroupsSayHowMany() throws Exception {
        List<LayerSummary> layers = new ArrayList<>(MaskErrorMeansTest.example());
        double nan = Double.NaN;
        layers.add(2, SyntheticReport.withErrors(SyntheticReport.layer(0, 1), nan, nan, nan, nan, nan));
        XmlPage page = page(layers);
        assertEquals(List.of("k_proj", "0 of 1", "\u2014", "\u2014", "\u2014", "\u2014", "\u2014", "\u2014"),
                page.texts(BY_KIND + "/tbody/tr[3]/td"));
        assertEquals(List.of("0", "2 of 3", "0.2500", "0.2500", "0.3750", "0.7500", "0.3750", "Wanda"),
                page.texts(BY_DEPTH + "/tbody/tr[1]/td"));
        assertEquals(List.of(3, 4, 0, 3), leastPositions(page, BY_KIND), "no least mark in the row without errors");
    }

    @Test
    void withoutErrorsThereIsNoSection() throws Exception {
        String html = HtmlReport.render(SyntheticReport.header("demo"), SyntheticReport.withoutPictures(SyntheticReport.sweep(2)));
        XmlPage page = new XmlPage(html);
        assertEquals(List.of("overview", "layers", "pictures"), page.attributes("//section", "id"));
        assertEquals(List.of("#overview", "#layers"), page.attributes("//nav/a", "href"));
        String body = html.substring(html.indexOf("<body>"), html.indexOf("<script>"));   // the CSS names the section
        assertFalse(body.contains("mask-errors") || body.contains("Output error"), "no empty section or table");
        assertEquals(1, page.all("//table").size(), "only the layer table");
    }

    @Test
    void kindsAreEscaped() throws Exception {
        LayerSummary odd = SyntheticReport.withErrors(TestSummaries.of("model.layers.0.x", 0, "<b>x</b> & 'y'", 4, 4,
                1, 1, 1, 1, 1, 0, 0, 0), 0.5, 0.25, 0.25, 0.5, 0.5);
        XmlPage page = page(List.of(odd));
        assertEquals(0, page.all("//b").size());
        assertEquals("<b>x</b> & 'y'", page.one(BY_KIND + "/tbody/tr/td[1]").getTextContent());
    }

    /** 1-based cell positions of the marked least mean, row by row. */
    private static List<Integer> leastPositions(XmlPage page, String table) throws Exception {
        List<Integer> positions = new ArrayList<>();
        int rows = page.all(table + "/tbody/tr").size();
        for (int r = 1; r <= rows; r++) {
            List<String> classes = page.attributes(table + "/tbody/tr[" + r + "]/td", "class");
            positions.add(classes.indexOf("num least") + 1);
        }
        return positions;
    }
}
