package io.layerscope.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.model.Checkpoint;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.results.ResultTables;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Decides whether {@code --overwrite} may replace an existing directory. It may only replace what a
 * layerscope job wrote (a directory holding a {@code run.json} whose tool is layerscope, the
 * {@code layers} table, and nothing but entries a job writes) or an empty directory; and never a protected path (the
 * working directory, the model, the caches, the home directory) or a directory containing one.
 * Everything else is refused with the path and the reason, before anything is written or deleted.
 */
final class ReplaceableResults {
    /** Top-level entries a results directory holds besides its {@code *.parquet} tables. */
    private static final Set<String> WRITTEN = Set.of(RunRecord.FILE, ResultsWriter.PNG_DIR, "index.html", "overview.png");

    private ReplaceableResults() {
    }

    /**
     * Throws unless {@code target} (an existing directory) may be deleted and replaced.
     *
     * @param option the option that named it, for the message ("--out")
     * @param kept   paths that must survive, by what they are for the message ("the model directory
     *               /m"): neither they nor a directory above them is replaced; the working and home
     *               directories are always kept
     */
    static void check(Path target, ResultsDirectory.Kind kind, Map<String, Path> kept) {
        String option = kind.option;
        Map<String, Path> all = new LinkedHashMap<>();
        all.put("the working directory", Path.of(""));
        all.put("your home directory", Path.of(System.getProperty("user.home")));
        all.putAll(kept);
        Path real = realPath(target);
        for (Map.Entry<String, Path> e : all.entrySet()) {
            if (e.getValue() != null && realPath(e.getValue()).startsWith(real)) {
                boolean same = realPath(e.getValue()).equals(real);
                throw new LayerscopeException("--overwrite refuses to replace " + option + " " + target + ": it "
                        + (same ? "is " : "contains ") + e.getKey() + "; choose another " + option);
            }
        }
        String why = kind == ResultsDirectory.Kind.RESULTS ? notResults(target) : notPrunedCheckpoint(target);
        if (why != null) {
            throw new LayerscopeException("--overwrite refuses to replace " + option + " " + target
                    + ": it is not a layerscope " + kind.what + " (" + why + "), and --overwrite only replaces"
                    + (kind == ResultsDirectory.Kind.RESULTS ? " results" : " pruned checkpoints") + " that layerscope wrote; choose another " + option + " or remove it yourself");
        }
    }

    /** Why {@code dir} is not recognisably a results directory, or null when it is one. */
    static String notResults(Path dir) {
        return notWrittenByLayerscope(dir, RunRecord.FILE, ResultTables.LAYERS.name() + ".parquet",
                n -> WRITTEN.contains(n) || n.endsWith(".parquet"));
    }

    /** Why {@code dir} is not recognisably a pruned checkpoint layerscope wrote, or null when it is one. */
    static String notPrunedCheckpoint(Path dir) {
        return notWrittenByLayerscope(dir, PrunedCheckpointWriter.MARKER, Checkpoint.INDEX_FILE,
                n -> n.endsWith(".safetensors") || n.equals(Checkpoint.INDEX_FILE) || n.equals(PrunedCheckpointWriter.MARKER)
                        || PrunedCheckpointWriter.isCopiedFile(n));
    }

    /**
     * Null when {@code dir} is empty, or holds {@code record} (JSON whose tool is layerscope), the
     * directory or file {@code required}, and only entries {@code written} accepts; else why not.
     */
    private static String notWrittenByLayerscope(Path dir, String record, String required, Predicate<String> written) {
        if (Files.isSymbolicLink(dir)) {
            return "it is a symbolic link";
        }
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                return null;   // nothing to lose
            }
        } catch (IOException e) {
            return "cannot list it: " + ResultsDirectory.describe(e);
        }
        Path run = dir.resolve(record);
        if (!Files.isRegularFile(run, LinkOption.NOFOLLOW_LINKS)) {
            return "no " + record;
        }
        try {
            JsonNode tool = new ObjectMapper().readTree(run.toFile()).path("tool");
            if (!"layerscope".equals(tool.asText())) {
                return record + " was not written by layerscope";
            }
        } catch (IOException e) {
            return record + " is not valid JSON";
        }
        if (!Files.exists(dir.resolve(required), LinkOption.NOFOLLOW_LINKS)) {
            return "no " + required;
        }
        List<String> foreign = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.map(p -> p.getFileName().toString())
                    .filter(n -> !written.test(n))
                    .sorted()
                    .forEach(foreign::add);
        } catch (IOException e) {
            return "cannot list it: " + ResultsDirectory.describe(e);
        }
        if (!foreign.isEmpty()) {
            return "it also holds " + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                    + (foreign.size() > 5 ? " and " + (foreign.size() - 5) + " more" : "")
                    + ", which layerscope did not write";
        }
        return null;
    }

    /** The path with symbolic links resolved where it exists, so two spellings of one directory compare equal. */
    static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            return abs;
        }
    }
}
