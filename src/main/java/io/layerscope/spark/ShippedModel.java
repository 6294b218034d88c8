package io.layerscope.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.LayerscopeException;
import io.layerscope.Sha256;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;

/**
 * --ship-model: the files an executor opens (config.json, the safetensors index, the weights) sent to
 * every executor through Spark's file server ({@code SparkContext.addFile}), for a cluster whose nodes
 * do not share the driver's storage. Spark sends files by name into each executor's working
 * directory, where an executor's first task fetches them, and takes a symbolic link (a Hugging Face
 * cache's snapshot entry) for the file it points at (a blob named by its hash), so a manifest sent
 * beside them maps the model's names to the fetched ones; an executor that finds the manifest opens
 * a directory of links to the fetched files instead of the driver's path.
 */
final class ShippedModel {
    private static final String PREFIX = "layerscope-model-";
    private final Path dir;
    /** The model's file names (as the checkpoint opens them) to the files Spark is handed. */
    private final Map<String, Path> files;
    private final PrintStream err;

    private ShippedModel(Path dir, Map<String, Path> files, PrintStream err) {
        this.dir = dir;
        this.files = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(files));   // config.json first
        this.err = err;
    }

    /** What --ship-model sends of {@code ckpt}, said on {@code err}; checked on the driver, before Spark starts. */
    static ShippedModel of(Checkpoint ckpt, PrintStream err) {
        Path dir = ckpt.dir().toAbsolutePath().normalize();
        List<Path> paths = new ArrayList<>(List.of(dir.resolve("config.json")));
        if (Files.isRegularFile(dir.resolve(Checkpoint.INDEX_FILE))) {
            paths.add(dir.resolve(Checkpoint.INDEX_FILE));
        }
        for (SafetensorsFile f : ckpt.files()) {
            paths.add(f.path().toAbsolutePath().normalize());
        }
        Map<String, Path> files = new LinkedHashMap<>();
        Set<String> fetched = new HashSet<>();
        for (Path p : paths) {
            String name = dir.relativize(p).toString();
            if (name.contains(p.getFileSystem().getSeparator())) {
                throw new LayerscopeException("--ship-model cannot send " + p + ": it is in a subdirectory of the model,"
                        + " and Spark sends files by name; put the model's files in one directory");
            }
            Path real;
            try {
                real = p.toRealPath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (real.toString().contains("#")) {
                throw new LayerscopeException("--ship-model cannot send " + real + ": Spark takes a '#' in a path for"
                        + " the start of a URI fragment; move or rename it");
            }
            if (!fetched.add(real.getFileName().toString())) {
                throw new LayerscopeException("--ship-model cannot send " + p + ": another of the model's files is also"
                        + " named " + real.getFileName() + " where it is stored, and Spark sends files by name");
            }
            files.put(name, real);
        }
        return new ShippedModel(dir, files, err);
    }

    /** The bytes sent to each executor. */
    long bytes() {
        long sum = 0;
        for (Path p : files.values()) {
            try {
                sum += Files.size(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sum;
    }

    /**
     * Hands the files and the manifest to {@code sc}'s file server, before any task that opens the
     * model is submitted; in local mode the tasks read the model where it is, and nothing is sent.
     */
    void ship(SparkContext sc) {
        if (sc.isLocal()) {
            err.println("model: --ship-model sends nothing in local mode, whose tasks read the model where it is");
            return;
        }
        long start = System.nanoTime();
        Path current = null;
        try {
            // Spark copies each file into the driver's own SparkFiles directory (spark.local.dir) as it adds it
            for (Path p : files.values()) {
                current = p;
                sc.addFile(p.toString());
            }
            current = null;
            sc.addFile(writeManifest().toString());
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new LayerscopeException("--ship-model could not hand " + (current == null ? "its manifest" : current)
                    + " to Spark (" + why + ")", e);
        }
        err.printf(Locale.ROOT, "model: --ship-model hands %d files (%s) to Spark for the executors (%.1f s)%n",
                files.size(), io.layerscope.hub.ConsoleProgress.bytes(bytes()), (System.nanoTime() - start) / 1e9);
    }

    /**
     * The manifest, at one path per JVM and model (Spark refuses the same name from another path):
     * the driver's directory and each file's name to the name it is fetched as.
     */
    Path writeManifest() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = json.createObjectNode();
        m.put("dir", dir.toString());
        ObjectNode names = m.putObject("files");
        files.forEach((name, real) -> names.put(name, real.getFileName().toString()));
        try {
            Path parent = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"),
                    "layerscope-shipped-" + ProcessHandle.current().pid()));
            parent.toFile().deleteOnExit();
            Path manifest = parent.resolve(manifestName(dir.toString()));
            Files.write(manifest, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
            manifest.toFile().deleteOnExit();
            return manifest;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The manifest's name for the driver's model directory {@code dir} (any spelling of it: ./m and m are one). */
    static String manifestName(String dir) {
        return PREFIX + hash(dir) + ".json";
    }

    /**
     * Where this JVM opens the driver's model directory {@code dir}: a directory of links to the files
     * Spark fetched, in a task of an application that shipped the model; else {@code dir} itself.
     */
    static Path whereThisExecutorReads(String dir) {
        if (TaskContext.get() == null) {
            return Path.of(dir);
        }
        // an executor's root is "." (its working directory)
        return whereToRead(dir, Path.of(SparkFiles.getRootDirectory()).toAbsolutePath().normalize());
    }

    /** {@link #whereThisExecutorReads} with Spark's fetched files in {@code root}. */
    static synchronized Path whereToRead(String dir, Path root) {
        Path manifest = root.resolve(manifestName(dir));
        if (!Files.isRegularFile(manifest)) {
            return Path.of(dir);
        }
        Path linked = root.resolve(PREFIX + hash(dir));
        if (Files.isDirectory(linked)) {
            return linked;
        }
        try {
            Map<String, Path> fetched = new LinkedHashMap<>();
            new ObjectMapper().readTree(manifest.toFile()).path("files").fields()
                    .forEachRemaining(e -> fetched.put(e.getKey(), root.resolve(e.getValue().asText())));
            for (Map.Entry<String, Path> e : fetched.entrySet()) {
                if (!Files.isRegularFile(e.getValue())) {
                    throw new LayerscopeException("--ship-model: " + e.getKey() + " of " + dir + " did not arrive here ("
                            + e.getValue() + " is missing)");
                }
            }
            Path building = Files.createDirectory(root.resolve("." + PREFIX + hash(dir) + "-" + UUID.randomUUID()));
            try {
                for (Map.Entry<String, Path> e : fetched.entrySet()) {
                    Files.createSymbolicLink(building.resolve(e.getKey()), e.getValue());
                }
                Files.move(building, linked, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isDirectory(linked)) {
                    throw e;
                }
                // another JVM working in this directory made it first
            } finally {
                io.layerscope.FileTrees.deleteWhatCan(building);
            }
            return linked;
        } catch (IOException e) {
            throw new LayerscopeException("--ship-model: cannot open the files Spark fetched into " + root + " ("
                    + io.layerscope.Failures.describe(e) + ")", e);
        }
    }

    /** The first 8 bytes of the SHA-256 of {@code dir}, absolute and normalised, in hex. */
    private static String hash(String dir) {
        String normal = Path.of(dir).toAbsolutePath().normalize().toString();
        MessageDigest sha = Sha256.newDigest();
        sha.update(normal.getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(sha).substring(0, 16);
    }
}
