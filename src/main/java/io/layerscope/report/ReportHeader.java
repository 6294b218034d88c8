package io.layerscope.report;

import io.layerscope.plot.CalibrationSummary;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the top of the report says about the run: which job wrote it ({@code sweep} or {@code layer}),
 * the model, the calibration, what the statistics see ({@code view}: the dense model or Wanda's
 * sequential pruning, the masks' sparsity and pattern; null to leave out), further details shown as
 * label/value pairs in their given order, and links to other files of the results directory (label to
 * path relative to the directory).
 *
 * <pre>{@code
 * new ReportHeader("sweep", "meta-llama/Llama-3.2-1B", new CalibrationSummary("c4", 128, 2048, 0),
 *         "dense model, masks at sparsity 0.5", Map.of("compute dtype", "float32"), Map.of("run.json", "run.json"));
 * }</pre>
 */
public record ReportHeader(String job, String model, CalibrationSummary calibration, String view,
                           Map<String, String> details, Map<String, String> links) {

    public ReportHeader {
        if (job == null || job.isBlank() || model == null || model.isBlank() || calibration == null) {
            throw new IllegalArgumentException("report header: the job ('" + job + "'), the model name ('" + model
                    + "') and the calibration (" + calibration + ") are required");
        }
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details == null ? Map.of() : details));
        links = Collections.unmodifiableMap(new LinkedHashMap<>(links == null ? Map.of() : links));
    }
}
