package io.layerscope.hub;

import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The C4 training shards Wanda calibrates with, from the {@code allenai/c4} dataset repo:
 * {@code --calibration c4} is shard 0 ({@code en/c4-train.00000-of-01024.json.gz}),
 * {@code c4:N} shard N, {@code c4:0,1,2} several, in the order given.
 *
 * <pre>{@code
 * List<Path> shards = new C4Shards(hub).paths("c4");   // [.../datasets--allenai--c4/snapshots/<sha>/en/c4-train.00000-of-01024.json.gz]
 * }</pre>
 */
public final class C4Shards {

    public static final String REPO_ID = "allenai/c4";
    public static final String REVISION = "main";
    public static final int SHARD_COUNT = 1024;

    private final HubClient hub;

    public C4Shards(HubClient hub) {
        this.hub = hub;
    }

    /** True for the {@code --calibration} values this class handles: "c4" and "c4:...". */
    public static boolean isC4(String calibration) {
        return calibration != null && (calibration.equals("c4") || calibration.startsWith("c4:"));
    }

    /** The shard numbers of a {@code --calibration} value: "c4" -> [0], "c4:3" -> [3], "c4:0,1,2" -> [0, 1, 2]. */
    public static List<Integer> parse(String calibration) {
        if (calibration == null || !isC4(calibration)) {
            throw new LayerscopeException("--calibration " + calibration + ": not a C4 selection; use c4, c4:N or c4:N,M,...");
        }
        if (calibration.equals("c4")) {
            return List.of(0);
        }
        Set<Integer> shards = new LinkedHashSet<>();
        for (String part : calibration.substring(3).split(",", -1)) {
            int shard;
            try {
                shard = Integer.parseInt(part.strip());
            } catch (NumberFormatException e) {
                shard = -1;
            }
            if (shard < 0 || shard >= SHARD_COUNT) {
                throw new LayerscopeException("--calibration " + calibration + ": \"" + part.strip()
                        + "\" is not a C4 shard number; shards are 0 to " + (SHARD_COUNT - 1)
                        + ", e.g. c4 (shard 0), c4:5 or c4:0,1,2");
            }
            if (!shards.add(shard)) {
                throw new LayerscopeException("--calibration " + calibration + ": shard " + shard + " is listed twice");
            }
        }
        return List.copyOf(shards);
    }

    /** The repo path of one training shard, e.g. {@code en/c4-train.00000-of-01024.json.gz}. */
    public static String shardFile(int shard) {
        if (shard < 0 || shard >= SHARD_COUNT) {
            throw new LayerscopeException("C4 shard " + shard + " does not exist; shards are 0 to " + (SHARD_COUNT - 1));
        }
        return String.format(Locale.ROOT, "en/c4-train.%05d-of-%05d.json.gz", shard, SHARD_COUNT);
    }

    /** The snapshot holding {@code shards}, downloaded as needed (run.json takes its commit and hashes). */
    public ResolvedSnapshot download(List<Integer> shards) {
        List<String> files = new ArrayList<>();
        for (int s : shards) {
            files.add(shardFile(s));
        }
        return hub.snapshotOf(REPO_ID, REVISION, RepoType.DATASET, files);
    }

    /**
     * The files of {@code shards} at revision main in the cache {@code root}, when every one is there
     * (as huggingface_hub or an earlier layerscope run left them); no network.
     */
    public static Optional<List<Path>> cached(Path root, List<Integer> shards) {
        Optional<Path> snapshot = HfCache.snapshot(root.resolve(HfCache.repoFolder("datasets", REPO_ID)), REVISION);
        if (snapshot.isEmpty()) {
            return Optional.empty();
        }
        List<Path> files = shards.stream().map(s -> snapshot.get().resolve(shardFile(s))).toList();
        return files.stream().allMatch(Files::isRegularFile) ? Optional.of(files) : Optional.empty();
    }

    /** The local .json.gz files of a {@code --calibration} value, in its order. */
    public List<Path> paths(String calibration) {
        List<Integer> shards = parse(calibration);
        ResolvedSnapshot snapshot = download(shards);
        return shards.stream().map(s -> snapshot.file(shardFile(s))).toList();
    }
}
