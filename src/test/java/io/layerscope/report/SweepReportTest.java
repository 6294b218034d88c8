package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
