package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.plot.OverviewChart;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepReportTest {

    @Test
    void writesOverviewAndAPageWhoseLinksAllResolve(@TempDir Path dir) throws Exception {
        List<ReportedLayer> layers = SyntheticReport.withPictures(dir, SyntheticReport.sweep(2));
        Files.writeString(dir.resolve("run.json"), "{}\n");
        Path page = SweepReport.write(dir, SyntheticReport.header("demo"), layers);
        assertEquals(dir.resolve("index.html"), page);

        BufferedImage overview = ImageIO.read(dir.resolve("overview.png").toFile());
        assertEquals(1600, overview.getWidth());
        assertEquals(1200, overview.getHeight());

        XmlPage xml = new XmlPage(Files.readString(page));
        assertEquals(15, xml.all("//table[@id='layer-table']/tbody/tr").size());
        assertEquals("png/thumbs/layer_analysis_model.layers.0.self_attn.q_proj.png", xml.all("//figure//img").get(0).getAttribute("src"));
        List<String> links = new ArrayList<>(xml.attributes("//a", "href"));
        links.addAll(xml.attributes("//img", "src"));
        URI base = dir.toUri();
        for (String link : links) {
            if (!link.startsWith("#")) {
                assertTrue(Files.isRegularFile(Path.of(base.resolve(link))), "link " + link + " has no file");
            }
        }
    }

    @Test
    void depthResultsAddTheDepthPanelsAndThePageSaysHowTallTheOverviewIs(@TempDir Path dir) throws Exception {
        List<ReportedLayer> layers = SyntheticReport.withoutPictures(SyntheticReport.sweep(2));
        SweepReport.write(dir, SyntheticReport.header("demo"), layers, DepthSectionTest.summary(false));
        BufferedImage overview = ImageIO.read(dir.resolve("overview.png").toFile());
        assertEquals(1600, overview.getWidth());
        assertEquals(1200 + new OverviewChart().panel(2, 0).height, overview.getHeight(), "one row of depth panels more");
        org.w3c.dom.Element img = new XmlPage(Files.readString(dir.resolve("index.html"))).one("//section[@id='overview']//img");
        assertEquals("1600", img.getAttribute("width"));
        assertEquals(String.valueOf(overview.getHeight()), img.getAttribute("height"));
        assertTrue(img.getAttribute("alt").endsWith("; block influence, angular distance to the next block and largest |h|"
                + " of each block"), img.getAttribute("alt"));

        Path plain = Files.createDirectory(dir.resolve("without-depth"));
        SweepReport.write(plain, SyntheticReport.header("demo"), layers);
        assertEquals(1200, ImageIO.read(plain.resolve("overview.png").toFile()).getHeight());
        img = new XmlPage(Files.readString(plain.resolve("index.html"))).one("//section[@id='overview']//img");
        assertEquals("1200", img.getAttribute("height"));
        assertTrue(img.getAttribute("alt").endsWith("across the decoder blocks"), img.getAttribute("alt"));
    }

    @Test
    void aGramSweepsPageComparesTheMasksByKindAndDepth(@TempDir Path dir) throws Exception {
        List<ReportedLayer> layers = SyntheticReport.withPictures(dir, SyntheticReport.gramSweep(2));
        Files.writeString(dir.resolve("run.json"), "{}\n");
        XmlPage xml = new XmlPage(Files.readString(SweepReport.write(dir, SyntheticReport.header("demo"), layers)));
        // gramSweep: attention Wanda 0.01 (block + 2), MLP and lm_head 1.5 times that; RIA 1.25 times, 2:4 four times
        assertEquals(List.of("Wanda", "Wanda", "Wanda", "Wanda", "RIA", "RIA", "RIA", "RIA"),
                xml.texts("//table[@id='mask-errors-by-kind']/tbody/tr/td[last()]"));
        // block 0: Wanda (4 x 0.02 + 3 x 0.03) / 7, RIA 0.025; block 1: (4 x 0.03 + 3 x 0.045) / 7, RIA 0.0375
        assertEquals(List.of("0", "7", "0.02429", "0.04000", "0.06000", "0.08000", "0.02500", "Wanda"),
                xml.texts("//table[@id='mask-errors-by-depth']/tbody/tr[1]/td"));
        assertEquals(List.of("1", "7", "0.03643", "0.06000", "0.09000", "0.1200", "0.03750", "Wanda"),
                xml.texts("//table[@id='mask-errors-by-depth']/tbody/tr[2]/td"));
        assertEquals(List.of("head", "1", "0.01500", "0.02000", "0.03000", "0.04000", "0.01250", "RIA"),
                xml.texts("//table[@id='mask-errors-by-depth']/tbody/tr[3]/td"));
        URI base = dir.toUri();
        for (String link : xml.attributes("//a", "href")) {
            if (!link.startsWith("#")) {
                assertTrue(Files.isRegularFile(Path.of(base.resolve(link))), "link " + link + " has no file");
            }
        }
    }

    @Test
    void withoutPicturesStillWritesOverviewAndPage(@TempDir Path dir) throws Exception {
        SweepReport.write(dir, SyntheticReport.header("demo"), SyntheticReport.withoutPictures(SyntheticReport.sweep(1)));
        assertTrue(Files.isRegularFile(dir.resolve("overview.png")));
        assertTrue(Files.isRegularFile(dir.resolve("index.html")));
        assertFalse(Files.exists(dir.resolve("png")), "no picture directory without pictures");
        assertEquals(0, new XmlPage(Files.readString(dir.resolve("index.html"))).all("//figure").size());
    }

    @Test
    void thumbnailsLiveBesideTheirPictures() {
        assertEquals("png/thumbs/layer_analysis_lm_head.png", SweepReport.thumbnailPath("png/layer_analysis_lm_head.png"));
        assertEquals("thumbs/a.png", SweepReport.thumbnailPath("a.png"));
    }

    @Test
    void aThumbnailAlreadyRenderedIsKeptAsItIs(@TempDir Path dir) throws Exception {
        ReportedLayer l = SyntheticReport.withPictures(dir, SyntheticReport.sweep(1)).get(0);
        Path thumbnail = dir.resolve(SweepReport.thumbnailPath(l.picture()));
        Files.createDirectories(thumbnail.getParent());
        byte[] rendered = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        Files.write(thumbnail, rendered);
        SweepReport.write(dir, SyntheticReport.header("demo"), List.of(l.withThumbnail(SweepReport.thumbnailPath(l.picture()))));
        assertEquals(java.util.HexFormat.of().formatHex(rendered), java.util.HexFormat.of().formatHex(Files.readAllBytes(thumbnail)));
        assertEquals(SweepReport.thumbnailPath(l.picture()),
                new XmlPage(Files.readString(dir.resolve("index.html"))).all("//figure//img").get(0).getAttribute("src"));
    }
}
