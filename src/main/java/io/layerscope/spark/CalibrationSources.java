package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.hub.C4Shards;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.hub.HubClient;
import io.layerscope.hub.HubSettings;
import io.layerscope.model.DemoModel;
import io.layerscope.model.HfCache;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns {@code --calibration} into local files: {@code demo} (the shard shipped in the jar),
 * {@code c4}, {@code c4:N}, {@code c4:0,1,2} (allenai/c4 shards from the Hub cache, downloaded once),
 * or paths (a file or directory; several separated by commas).
 */
public final class CalibrationSources {
    private CalibrationSources() {
    }

    public static CalibrationSource resolve(String spec, Path cacheDirOption, Map<String, String> env) {
        return resolve(spec, cacheDirOption, env, System.err);
    }

    /** As above; C4 shards found outside the chosen cache are reported on {@code err}. */
    static CalibrationSource resolve(String spec, Path cacheDirOption, Map<String, String> env, PrintStream err) {
        if (spec.equals("demo")) {
            Path cache = HubSettings.fromEnvironment(env, cacheDirOption).cacheDir();
            return new CalibrationSource("demo", List.of(DemoModel.calibrationShard(cache)));
        }
        if (C4Shards.isC4(spec)) {
            HubSettings settings = HubSettings.fromEnvironment(env, cacheDirOption);
            List<Integer> shards = C4Shards.parse(spec);
            Path chosen = settings.cacheDir();
            if (C4Shards.cached(chosen, shards).isEmpty()) {
                List<Path> caches = HfCache.searched(chosen, env, HfCache.home(env));
                for (Path other : caches.subList(1, caches.size())) {
                    Optional<List<Path>> found = C4Shards.cached(other, shards);
                    if (found.isPresent()) {
                        err.println("layerscope: C4 " + spec + " is not in " + chosen + "; using the copy in the Hugging Face"
                                + " cache " + other);
                        return new CalibrationSource(spec, found.get());
                    }
                }
            }
            HubClient hub = new HubClient(settings, ConsoleProgress.toStandardError());
            return new CalibrationSource(spec, new C4Shards(hub).paths(spec));
        }
        List<Path> files = new ArrayList<>();
        for (String part : spec.split(",")) {
            String given = part.trim();
            // ~ as the home directory, as the path options read it (the shell leaves it in --calibration=~/c4)
            Path p = given.equals("~") || given.startsWith("~/")
                    ? io.layerscope.model.HfCache.expand(given, io.layerscope.model.HfCache.home(env))
                    : Path.of(given);
            if (!Files.exists(p)) {
                throw new LayerscopeException("--calibration " + part.trim() + ": no such file or directory"
                        + " (expected c4, c4:N, demo, or a C4-format .json.gz/.jsonl file or directory)");
            }
            files.add(p);
        }
        return new CalibrationSource(spec, files);
    }
}
