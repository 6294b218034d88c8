package io.layerscope.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;

/** Where calibration documents come from: a name for run.json ("demo", "c4", a path) and the local files. */
public record CalibrationSource(String name, List<Path> files) implements Serializable {
    private static final long serialVersionUID = 1L;
}
