package io.layerscope.cli;

import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.ModelResolver;
import io.layerscope.model.ResolvedModel;
import io.layerscope.plot.PictureSize;
import io.layerscope.spark.SweepOptions;
import java.nio.file.Path;

/** Builds the immutable {@link SweepOptions} of a sweep or single-layer job from the parsed options. */
final class JobOptions {
    private JobOptions() {
    }

    static SweepOptions build(String command, ModelOptions m, CalibrationOptions c, Path out, Path pngDir,
                              boolean overwrite, String layers, boolean exactLayer, boolean png,
                              String pngSize) {
        PictureSize size = PictureSize.parse(pngSize);   // before the model resolves: a typo fails at once
        ResolvedModel r = m.resolve();
        boolean demo = m.model().equals(ModelResolver.DEMO);
        return new SweepOptions(m.model(), r.repoId(), r.revision(), r.commit(), r.dir(), out, pngDir, overwrite,
                c.nsamples(demo), c.seqlen(demo), c.seed, c.calibration(demo), m.cacheDirOption(),
                ComputeDtype.parse(c.dtype), layers, exactLayer, png, size, c.shards, c.batchSize, command, m.env());
    }
}
