package io.layerscope.cli;

import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.ModelResolver;
import io.layerscope.model.ResolvedModel;
import io.layerscope.plot.PictureSize;
import io.layerscope.spark.JobOptions;
import io.layerscope.spark.LocalDevice;
import java.nio.file.Path;

/** Builds the immutable {@link JobOptions} of a sweep or single-layer job from the parsed command line, once. */
final class JobArguments {
    private JobArguments() {
    }

    /**
     * @param layers  --layers regex (sweep) or the exact --layer name ({@code exactLayer})
     * @param pngSize --png-size as typed (checked even with {@code png} false)
     */
    static JobOptions build(String command, ModelOptions m, CalibrationOptions c, AnalysisOptions a, Path out,
                            Path pngDir, boolean overwrite, String layers, boolean exactLayer, boolean png, String pngSize) {
        PictureSize size = PictureSize.parse(pngSize);   // before the model resolves: a typo fails at once
        // before the model resolves (a download, perhaps): a device this job cannot use fails at once
        String device = c.device == null ? null : LocalDevice.name(LocalDevice.check(c.device));
        double sparsity = a.sparsity();
        var mode = a.mode();
        var pattern = a.pattern();
        var allocation = a.allocation();
        var savePruned = a.savePruned();
        double blockShare = a.outlierBlockShare();
        double positionShare = a.outlierPositionShare();
        long gramMemory = a.gramMemory();
        var statsDevice = a.statsDevice();
        long cacheBytes = c.calibrationCacheBytes();
        ResolvedModel r = m.resolve();
        boolean demo = m.model().equals(ModelResolver.DEMO);
        return new JobOptions(command,
                new JobOptions.Model(m.model(), r.repoId(), r.revision(), r.commit(), r.dir(), m.cacheDirOption(), m.env()),
                new JobOptions.Calibration(c.calibration(demo), c.nsamples(demo), c.seqlen(demo), c.seed,
                        ComputeDtype.parse(c.dtype), c.shards, c.batchSize).withCache(c.calibrationCache, cacheBytes)
                        .withDevice(device).withShipModel(c.shipModel),
                new JobOptions.Analysis(layers, exactLayer, sparsity, mode, pattern, allocation, blockShare, positionShare,
                        a.gram, gramMemory, statsDevice, !a.noDepth),
                new JobOptions.Output(out, pngDir, overwrite, png ? size : null, savePruned, null));
    }
}
