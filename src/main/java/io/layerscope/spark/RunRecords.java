package io.layerscope.spark;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.results.BlockResult;
import io.layerscope.results.Provenance;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;

/** Builds the {@link RunRecord} of a finished job: provenance a result can always show. */
final class RunRecords {
    private RunRecords() {
    }

    /**
     * @param sha256  weight file to its sha256; a file missing here gets none (the report's draft)
     * @param created when the results began to be written: run.json's createdAt, and the report's
     */
    static RunRecord of(JobOptions o, CalibrationSource source, int documents, Checkpoint ckpt, List<PrunableLayer> layers, List<CalibrationSample> samples,
                        CalibrationStage.Result stage1, Map<String, Double> timings, SparkSession spark,
                        Map<Path, String> sha256, Provenance provenance, List<BlockResult> blocks, Instant created) {
        List<RunRecord.WeightFile> files = new ArrayList<>();
        // a sharded checkpoint's files are absolute paths (read from its index) even when --model was relative
        Path dir = ckpt.dir().toAbsolutePath().normalize();
        for (SafetensorsFile f : ckpt.files()) {
            String name = dir.relativize(f.path().toAbsolutePath().normalize()).toString();
            files.add(new RunRecord.WeightFile(name, f.fileSize(), sha256.get(f.path())));
        }
        // every config.json field the forward pass uses, as it was read (defaults filled in)
        Map<String, Object> config = new LinkedHashMap<>(ckpt.config().recorded());
        config.put("stored_dtype", ckpt.storedDtype().name());
        JobOptions.Model m = o.model();
        RunRecord.Model model = new RunRecord.Model(m.spec(), m.repoId(), m.revision(), m.commit(),
                ckpt.dir().toAbsolutePath().toString(), files, config);
        List<RunRecord.Window> windows = samples.stream()
                .map(s -> new RunRecord.Window(s.sample(), s.doc(), s.start())).toList();
        RunRecord.Calibration calibration = new RunRecord.Calibration(source.name(),
                source.files().stream().map(Path::toString).toList(), documents, null, windows, null);
        Map<String, Double> t = new LinkedHashMap<>(timings);
        return new RunRecord(RunRecord.SCHEMA_VERSION, Provenance.TOOL, provenance.toolVersion(), provenance.runId(), o.command(),
                created.toString(), model, o.recorded(spark.sparkContext().master()), calibration,
                String.join(", ", stage1.computeTypes()), stage1.devices(), stage1.blocksLoaded(),
                blocks.stream().map(BlockResult::sparsityAllocated).toList(), versionMap(spark), t,
                layers.stream().map(PrunableLayer::name).toList(), null, null, null, null);
    }

    private static Map<String, String> versionMap(SparkSession spark) {
        Properties p = versions();
        Map<String, String> v = new LinkedHashMap<>();
        v.put("layerscope", p.getProperty("layerscope", "dev"));
        v.put("spark", spark.version());
        v.put("scala", scala.util.Properties.versionNumberString());
        v.put("djl", p.getProperty("djl", "?"));
        v.put("pytorch", p.getProperty("pytorch", "?"));
        v.put("pytorch_native", p.getProperty("pytorch.native", "?"));
        v.put("java", System.getProperty("java.version"));
        v.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        v.put("arch", System.getProperty("os.arch"));
        return v;
    }

    /** The provenance of a new run: a fresh run id, the tool's version, the model, the mode. */
    static Provenance provenance(JobOptions o) {
        return new Provenance(UUID.randomUUID().toString(), versions().getProperty("layerscope", "dev"), o.model().spec(),
                o.model().repoId(), o.model().commit(), mode(o));
    }

    /** How the activations were gathered (the footers' layerscope.mode): dense or sequential. */
    static String mode(JobOptions o) {
        return o.analysis().mode().label();
    }

    /**
     * This build of layerscope: its version and when it was built. A SNAPSHOT keeps its version from
     * commit to commit, so what must not outlive the code (the calibration cache's entries) keys on this.
     */
    static String build() {
        Properties p = versions();
        return p.getProperty("layerscope", "dev") + " built " + p.getProperty("build", "?");
    }

    /** Build versions, filtered into the jar by Maven (src/main/resources/layerscope-version.properties). */
    static Properties versions() {
        Properties p = new Properties();
        try (InputStream in = RunRecords.class.getResourceAsStream("/layerscope-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // versions are informative only
        }
        return p;
    }

}
