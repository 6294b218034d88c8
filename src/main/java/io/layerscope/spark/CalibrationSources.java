package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.hub.C4Shards;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.hub.HubClient;
import io.layerscope.hub.HubSettings;
import io.layerscope.model.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns {@code --calibration} into local files: {@code demo} (the shard shipped in the jar),
 * {@code c4}, {@code c4:N}, {@code c4:0,1,2} (allenai/c4 shards from the Hub cache, downloaded once),
 * or paths (a file or directory; several separated by commas).
 */
public final class CalibrationSources {
    private CalibrationSources() {
    }

    public static CalibrationSource resolve(String spec, Path cacheDirOption, Map<String, String> env) {
        if (spec.equals("demo")) {
            Path cache = HubSettings.fromEnvironment(env, cacheDirOption).cacheDir();
            return new CalibrationSource("demo", List.of(DemoModel.calibrationShard(cache)));
        }
        if (C4Shards.isC4(spec)) {
            HubClient hub = new HubClient(HubSettings.fromEnvironment(env, cacheDirOption), ConsoleProgress.toStandardError());
            return new CalibrationSource(spec, new C4Shards(hub).paths(spec));
        }
        List<Path> files = new ArrayList<>();
        for (String part : spec.split(",")) {
            Path p = Path.of(part.trim());
            if (!Files.exists(p)) {
                throw new LayerscopeException("--calibration " + part.trim() + ": no such file or directory"
                        + " (expected c4, c4:N, demo, or a C4-format .json.gz/.jsonl file or directory)");
            }
            files.add(p);
        }
        return new CalibrationSource(spec, files);
    }
}
