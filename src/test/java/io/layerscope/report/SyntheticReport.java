package io.layerscope.report;

import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.LayerSummary;
import io.layerscope.plot.TestSummaries;
import io.layerscope.plot.Thumbnail;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A report's input without a sweep: LLaMA-shaped layers (7 kinds per block, then lm_head) with values
 * from simple formulas, and small real PNG pictures written with ImageIO, so tests and the browser test
 * run in seconds.
 */
final class SyntheticReport {
    static final List<String> KINDS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    static final CalibrationSummary CALIBRATION = new CalibrationSummary("demo", 8, 64, 0);

    private SyntheticReport() {
    }

    static LayerSummary layer(int block, int kind) {
        String k = KINDS.get(kind);
        String name = "model.layers." + block + (kind < 4 ? ".self_attn." : ".mlp.") + k;
        double act = 1 + 0.5 * block + 0.125 * kind;
        // Wanda means fall with the kind and rise with the block, so sorting by them reorders the table.
        double wanda = 0.01 * (block + 1) / (kind + 1.0);
        return TestSummaries.of(name, block, k, 128, kind == 6 ? 344 : 128, act, wanda, 0.75 + 0.01 * kind,
                0.7 + 0.001 * block, 0.72, 0.05, 0.001 * (kind + 1) * (block + 1), 0.0001 * block);
    }

    static LayerSummary head() {
        return TestSummaries.of("lm_head", -1, "lm_head", 512, 128, 12.5, 0.0625, 0.9, 0.85, 0.8, 0.03, 0.004, 0.0);
    }

    /** {@code blocks} blocks of 7 layers, then lm_head. */
    static List<LayerSummary> sweep(int blocks) {
        List<LayerSummary> l = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            for (int k = 0; k < KINDS.size(); k++) {
                l.add(layer(b, k));
            }
        }
        l.add(head());
        return l;
    }

    /** {@code s} with the five {@code recon_err_*} values of a --gram sweep, in column order (NaN: absent). */
    static LayerSummary withErrors(LayerSummary s, double... errors) {
        List<String> columns = List.of("recon_err_wanda", "recon_err_magnitude_row", "recon_err_magnitude_layer",
                "recon_err_wanda_2of4", "recon_err_ria");
        for (int m = 0; m < errors.length; m++) {
            s = TestSummaries.with(s, columns.get(m), errors[m]);
        }
        return s;
    }

    /**
     * As {@link #sweep}, for a --gram sweep: every layer has the five output errors, Wanda's the least
     * in the attention layers, RIA's in the MLP and lm_head, the 2:4 mask's always the largest.
     */
    static List<LayerSummary> gramSweep(int blocks) {
        return sweep(blocks).stream().map(s -> {
            double base = 0.01 * (s.block() + 2);
            double wanda = s.layer().contains(".self_attn.") ? base : 1.5 * base;
            return withErrors(s, wanda, 2 * base, 3 * base, 4 * base, 1.25 * base);
        }).toList();
    }

    /** The layers without pictures (a --no-png sweep). */
    static List<ReportedLayer> withoutPictures(List<LayerSummary> layers) {
        return layers.stream().map(s -> new ReportedLayer(s, null)).toList();
    }

    /**
     * Writes a 600 x 500 picture per layer to {@code dir/png/layer_analysis_<layer>.png} and its
     * thumbnail beside it, as the per-layer stage does.
     */
    static List<ReportedLayer> withPictures(Path dir, List<LayerSummary> layers) throws IOException {
        Files.createDirectories(dir.resolve("png"));
        List<ReportedLayer> reported = new ArrayList<>();
        int i = 0;
        for (LayerSummary s : layers) {
            String path = "png/layer_analysis_" + s.layer() + ".png";
            BufferedImage image = new BufferedImage(600, 500, BufferedImage.TYPE_INT_RGB);
            Graphics2D g2 = image.createGraphics();
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, 600, 500);
            g2.setColor(new Color(Color.HSBtoRGB(i++ / 23f, 0.7f, 0.8f)));
            g2.fillRect(40, 40, 520, 420);
            g2.setColor(Color.BLACK);
            g2.drawString(s.layer(), 60, 80);
            g2.dispose();
            ImageIO.write(image, "png", dir.resolve(path).toFile());
            String thumbnail = SweepReport.thumbnailPath(path);
            Files.createDirectories(dir.resolve(thumbnail).getParent());
            ImageIO.write(Thumbnail.scale(image, SweepReport.THUMBNAIL_WIDTH), "png", dir.resolve(thumbnail).toFile());
            reported.add(new ReportedLayer(s, path).withThumbnail(thumbnail));
        }
        return reported;
    }

    static ReportHeader header(String model) {
        return header("sweep", model, "dense model, masks at sparsity 0.5");
    }

    static ReportHeader header(String job, String model, String view) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("dtype", "float32");
        details.put("Spark master", "local[*]");
        return new ReportHeader(job, model, CALIBRATION, view, details, Map.of("run.json", "run.json"));
    }
}
