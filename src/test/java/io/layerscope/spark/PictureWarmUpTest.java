package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.layerscope.plot.LayerAnalysisChart;
import io.layerscope.plot.PictureSize;
import io.layerscope.report.SweepReport;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The throwaway pictures are real ones of the asked size, and a JVM starts drawing them at most once. */
class PictureWarmUpTest {

    @Test
    void drawsWhatStageTwoDrawsAtTheJobsSize() throws IOException {
        LayerAnalysisChart.Pngs pngs = PictureWarmUp.draw(1, new PictureSize(900, 750));
        BufferedImage picture = ImageIO.read(new ByteArrayInputStream(pngs.picture()));
        assertEquals(900, picture.getWidth());
        assertEquals(750, picture.getHeight());
        assertEquals(SweepReport.THUMBNAIL_WIDTH, ImageIO.read(new ByteArrayInputStream(pngs.thumbnail())).getWidth());
    }

    @Test
    void startsOncePerJvmAndNotForAJobWithoutPictures() {
        assertFalse(PictureWarmUp.startOnce(null));
        PictureWarmUp.startOnce(PictureSize.DEFAULT); // true unless an earlier sweep in this JVM started it
        assertFalse(PictureWarmUp.startOnce(PictureSize.DEFAULT));
        assertFalse(PictureWarmUp.startOnce(new PictureSize(900, 750)));
    }

    @Test
    void runningOutOfHeapWhileWarmingUpIsLeftForStageTwo() {
        PictureWarmUp.bestEffort(() -> {
            throw new OutOfMemoryError("Java heap space");
        }).run();
        PictureWarmUp.bestEffort(() -> {
            throw new IllegalStateException("no fonts");
        }).run();
        Error other = new StackOverflowError();
        org.junit.jupiter.api.Assertions.assertSame(other, org.junit.jupiter.api.Assertions.assertThrows(
                StackOverflowError.class, () -> PictureWarmUp.bestEffort(() -> {
                    throw other;
                }).run()));
    }
}
