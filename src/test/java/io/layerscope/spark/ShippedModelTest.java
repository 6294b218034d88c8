package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --ship-model without a cluster: what the driver sends (by the names Spark fetches them as), and the
 * directory an executor opens once Spark has fetched them into its working directory (here, copies
 * made by hand as Spark's fetch would make them).
 */
class ShippedModelTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    /** A Hugging Face cache's snapshot of the demo model: its entries are links to blobs named by hash. */
    private Path snapshot() throws Exception {
        Path demo = DemoModel.ensure(tmp.resolve("cache"));
        Path blobs = Files.createDirectories(tmp.resolve("hub/models--org--demo/blobs"));
        Path snap = Files.createDirectories(tmp.resolve("hub/models--org--demo/snapshots/abc"));
        int i = 0;
        for (String f : List.of("config.json", "model.safetensors")) {
            Path blob = Files.copy(demo.resolve(f), blobs.resolve("blob" + i++ + "f00d"));
            Files.createSymbolicLink(snap.resolve(f), Path.of("../../blobs").resolve(blob.getFileName()));
        }
        return snap;
    }

    @Test
    void sendsTheCheckpointsFilesAndAManifestOfTheirFetchedNames() throws Exception {
        Path snap = snapshot();
        ShippedModel shipped = ShippedModel.of(Checkpoint.open(snap), QUIET);
        var m = new ObjectMapper().readTree(shipped.writeManifest().toFile());
        assertEquals(snap.toAbsolutePath().normalize().toString(), m.path("dir").asText());
        Map<String, String> files = new LinkedHashMap<>();
        m.path("files").fields().forEachRemaining(e -> files.put(e.getKey(), e.getValue().asText()));
        assertEquals(Map.of("config.json", "blob0f00d", "model.safetensors", "blob1f00d"), files);
        assertEquals(Files.size(snap.resolve("config.json")) + Files.size(snap.resolve("model.safetensors")), shipped.bytes());
        assertEquals(ShippedModel.manifestName(snap.toAbsolutePath().normalize().toString()),
                shipped.writeManifest().getFileName().toString());
    }

    @Test
    void anExecutorOpensLinksToTheFetchedFiles() throws Exception {
        Path snap = snapshot();
        String dir = snap.toAbsolutePath().normalize().toString();
        Path root = Files.createDirectories(tmp.resolve("executor-work-dir"));
        // nothing shipped: the driver's path
        assertEquals(Path.of(dir), ShippedModel.whereToRead(dir, root));

        Path manifest = ShippedModel.of(Checkpoint.open(snap), QUIET).writeManifest();
        Files.copy(manifest, root.resolve(manifest.getFileName()));
        Files.copy(snap.resolve("config.json"), root.resolve("blob0f00d"));
        Files.copy(snap.resolve("model.safetensors"), root.resolve("blob1f00d"));
        Path opened = ShippedModel.whereToRead(dir, root);
        assertTrue(opened.startsWith(root), opened.toString());
        assertEquals(opened, ShippedModel.whereToRead(dir, root));
        // the tasks' spelling of the directory (--model ./m reaches them as /cwd/./m) finds the same manifest
        assertEquals(opened, ShippedModel.whereToRead(snap.resolve("../abc/.").toString(), root));
        try (Stream<Path> entries = Files.list(opened)) {
            assertEquals(List.of("config.json", "model.safetensors"),
                    entries.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Checkpoint there = Checkpoint.open(opened);
        Checkpoint here = Checkpoint.open(snap);
        String tensor = "model.layers.0.mlp.down_proj.weight";
        assertArrayEquals(here.readFloats(tensor), there.readFloats(tensor));
        assertEquals(here.config().hiddenSize(), there.config().hiddenSize());
    }

    @Test
    void aFileThatDidNotArriveIsNamed() throws Exception {
        Path snap = snapshot();
        String dir = snap.toAbsolutePath().normalize().toString();
        Path root = Files.createDirectories(tmp.resolve("executor-work-dir"));
        Path manifest = ShippedModel.of(Checkpoint.open(snap), QUIET).writeManifest();
        Files.copy(manifest, root.resolve(manifest.getFileName()));
        Files.copy(snap.resolve("config.json"), root.resolve("blob0f00d"));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> ShippedModel.whereToRead(dir, root));
        assertEquals("--ship-model: model.safetensors of " + dir + " did not arrive here (" + root.resolve("blob1f00d")
                + " is missing)", e.getMessage());
        try (Stream<Path> entries = Files.list(root)) {
            assertEquals(List.of("blob0f00d", manifest.getFileName().toString()),
                    entries.map(p -> p.getFileName().toString()).sorted().toList(), "a half-made directory was left");
        }
    }

    /** Spark reads a '#' in a path as a URI fragment's start, and would send another file. */
    @Test
    void aPathWithAHashIsRefused() throws Exception {
        Path demo = DemoModel.ensure(tmp.resolve("cache"));
        Path model = Files.createDirectories(tmp.resolve("run#1"));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(demo.resolve(f), model.resolve(f));
        }
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> ShippedModel.of(Checkpoint.open(model), QUIET));
        assertEquals("--ship-model cannot send " + model.toRealPath().resolve("config.json") + ": Spark takes a '#' in a"
                + " path for the start of a URI fragment; move or rename it", e.getMessage());
    }

    /** Spark sends files by name: a shard in a subdirectory would arrive beside the others, under another name. */
    @Test
    void aShardInASubdirectoryIsRefused() throws Exception {
        Path demo = DemoModel.ensure(tmp.resolve("cache"));
        Path model = Files.createDirectories(tmp.resolve("nested/sub")).getParent();
        Files.copy(demo.resolve("config.json"), model.resolve("config.json"));
        Files.copy(demo.resolve("model.safetensors"), model.resolve("sub/model.safetensors"));
        var map = new ObjectMapper().createObjectNode();
        var weights = map.putObject("weight_map");
        Checkpoint.open(demo).files().get(0).tensors().keySet().forEach(t -> weights.put(t, "sub/model.safetensors"));
        Files.writeString(model.resolve(Checkpoint.INDEX_FILE), map.toString());
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> ShippedModel.of(Checkpoint.open(model), QUIET));
        assertEquals("--ship-model cannot send " + model.toAbsolutePath().normalize().resolve("sub/model.safetensors")
                + ": it is in a subdirectory of the model, and Spark sends files by name; put the model's files in one"
                + " directory", e.getMessage());
    }
}
