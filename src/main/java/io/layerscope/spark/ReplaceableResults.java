package io.layerscope.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.model.Checkpoint;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.report.SweepReport;
import io.layerscope.results.ResultTables;
import io.layerscope.LayerscopeException;
import io.layerscope.RealPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Decides whether {@code --overwrite} may replace an existing directory. It may only replace what a
 * layerscope job wrote (a directory holding a {@code run.json} whose tool is layerscope, the
 * {@code layers} table, and nothing but entries a job writes) or an empty directory; and never a protected path (the
 * working directory, the model, the caches, the home directory) or a directory containing one.
 * Everything else is refused with the path and the reason, before anything is written or deleted.
 */
final class ReplaceableResults {
    /** Top-level files of a results directory besides its tables and pictures. */
    private static final Set<String> FILES = Set.of(RunRecord.FILE, "index.html", "overview.png");
    /** What Spark writes into a table's directory: part files, the success marker, their checksums. */
    private static final Pattern TABLE_FILE = Pattern.compile("\\.?part-[^/]*\\.parquet(\\.crc)?|\\.?_SUCCESS(\\.crc)?");

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
        Path real = RealPaths.of(target);
        for (Map.Entry<String, Path> e : all.entrySet()) {
            if (e.getValue() != null && RealPaths.of(e.getValue()).startsWith(real)) {
                boolean same = RealPaths.of(e.getValue()).equals(real);
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
        Set<String> tables = ResultTables.ALL.stream().map(t -> t.name() + ".parquet").collect(Collectors.toSet());
        return notWrittenByLayerscope(dir, RunRecord.FILE, ResultTables.LAYERS.name() + ".parquet", (entry, foreign) -> {
            String n = entry.getFileName().toString();
            if (FILES.contains(n)) {
                fileOr(entry, n, foreign);
            } else if (tables.contains(n)) {
                within(entry, n, foreign, (f, rel) -> {
                    if (TABLE_FILE.matcher(f.getFileName().toString()).matches()) {
                        fileOr(f, rel, foreign);
                    } else {
                        foreign.add(rel);
                    }
                });
            } else if (n.equals(ResultsWriter.PNG_DIR)) {
                within(entry, n, foreign, (f, rel) -> {
                    if (f.getFileName().toString().equals(SweepReport.THUMBNAIL_DIR)) {
                        within(f, rel, foreign, (t, relT) -> pictureOr(t, relT, foreign));
                    } else {
                        pictureOr(f, rel, foreign);
                    }
                });
            } else {
                foreign.add(n);
            }
        });
    }

    /** Why {@code dir} is not recognisably a pruned checkpoint layerscope wrote, or null when it is one. */
    static String notPrunedCheckpoint(Path dir) {
        return notWrittenByLayerscope(dir, PrunedCheckpointWriter.MARKER, Checkpoint.INDEX_FILE, (entry, foreign) -> {
            String n = entry.getFileName().toString();
            if (n.endsWith(".safetensors") || n.equals(Checkpoint.INDEX_FILE) || n.equals(PrunedCheckpointWriter.MARKER)
                    || PrunedCheckpointWriter.isCopiedFile(n)) {
                fileOr(entry, n, foreign);
            } else {
                foreign.add(n);
            }
        });
    }

    /** Checks one top-level entry, adding the paths under it (relative to DIR) that layerscope did not write. */
    private interface EntryCheck {
        void check(Path entry, List<String> foreign) throws IOException;
    }

    private interface ChildCheck {
        void check(Path child, String relative) throws IOException;
    }

    /** A regular file (not a link), else foreign. */
    private static void fileOr(Path p, String relative, List<String> foreign) {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            foreign.add(relative);
        }
    }

    private static void pictureOr(Path p, String relative, List<String> foreign) {
        if (p.getFileName().toString().endsWith(".png")) {
            fileOr(p, relative, foreign);
        } else {
            foreign.add(relative);
        }
    }

    /** Each entry of the directory {@code dir} through {@code child}; {@code dir} foreign unless a directory. */
    private static void within(Path dir, String relative, List<String> foreign, ChildCheck child) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            foreign.add(relative);
            return;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                child.check(p, relative + "/" + p.getFileName());
            }
        }
    }

    /**
     * Null when {@code dir} is empty, or holds {@code record} (JSON whose tool is layerscope), the
     * directory or file {@code required}, and only entries {@code written} accepts, down to the
     * files inside them (a user's notes among the pictures would go with them); else why not.
     */
    private static String notWrittenByLayerscope(Path dir, String record, String required, EntryCheck written) {
        if (Files.isSymbolicLink(dir)) {
            return "it is a symbolic link";
        }
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                return null;   // nothing to lose
            }
        } catch (IOException e) {
            return "cannot list it: " + io.layerscope.Failures.describe(e);
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
            for (Path p : entries.sorted().toList()) {
                written.check(p, foreign);
            }
        } catch (IOException e) {
            return "cannot list it: " + io.layerscope.Failures.describe(e);
        }
        foreign.sort(null);
        if (!foreign.isEmpty()) {
            return "it also holds " + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                    + (foreign.size() > 5 ? " and " + (foreign.size() - 5) + " more" : "")
                    + ", which layerscope did not write";
        }
        return null;
    }
}
