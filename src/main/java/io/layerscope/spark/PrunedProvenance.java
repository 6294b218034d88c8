package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a pruned checkpoint's marker file records: where it came from and how it was pruned. */
final class PrunedProvenance {
    private PrunedProvenance() {
    }

    static Map<String, Object> of(JobOptions o, Checkpoint ckpt, double[] blockSparsity) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tool", "layerscope");
        m.put("toolVersion", RunRecords.versions().getProperty("layerscope", "dev"));
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("spec", o.model().spec());
        source.put("repoId", o.model().repoId());
        source.put("commit", o.model().commit());
        source.put("directory", ckpt.dir().toAbsolutePath().toString());
        m.put("source", source);
        JobOptions.Analysis a = o.analysis();
        m.put("mode", a.mode().label());
        m.put("method", a.sequential() ? "wanda (prune_wanda, sequential)" : "wanda one-shot (dense statistics)");
        m.put("sparsity", a.sparsity());
        m.put("pattern", a.pattern().label());
        m.put("allocation", a.allocation());
        List<Double> blocks = new ArrayList<>();
        for (double s : blockSparsity) {
            blocks.add(s);
        }
        m.put("blockSparsity", blocks);
        m.put("calibration", o.calibration());
        m.put("notPruned", List.of("lm_head", "embeddings", "norms"));
        return m;
    }
}
