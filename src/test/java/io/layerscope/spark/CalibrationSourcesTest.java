package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** C4 shards already in the Hugging Face default cache are used, and said so, when the chosen cache lacks them. */
class CalibrationSourcesTest {
    private static final String COMMIT = "1588ec454efa1a09f29cd18ddd04fe05fc8653a2";

    @TempDir
    Path tmp;

    /** A C4 snapshot at main in {@code cache}, with the given shard files (bytes irrelevant here). */
    private Path c4(Path cache, String... shards) throws Exception {
        Path repo = cache.resolve("datasets--allenai--c4");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT);
        Path snapshot = repo.resolve("snapshots").resolve(COMMIT);
        for (String s : shards) {
            Files.createDirectories(snapshot.resolve("en"));
            Files.writeString(snapshot.resolve("en/c4-train." + s + "-of-01024.json.gz"), "x");
        }
        return snapshot;
    }

    @Test
    void aLeadingTildeIsTheHomeDirectory() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("home"));
        Path file = Files.writeString(home.resolve("docs.jsonl"), "{\"text\": \"x\"}\n");
        CalibrationSource s = CalibrationSources.resolve("~/docs.jsonl", tmp.resolve("cache"),
                Map.of("HOME", home.toString()), new PrintStream(new java.io.ByteArrayOutputStream(), true));
        assertEquals(List.of(file), s.files());
    }

    @Test
    void shardsInTheDefaultHubCacheUnderHomeAreUsedAndNamed() throws Exception {
        Path home = tmp.resolve("home");
        Path hub = home.resolve(".cache/huggingface/hub");
        Path snapshot = c4(hub, "00000", "00003");
        Path chosen = tmp.resolve("llm_weights");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CalibrationSource s = CalibrationSources.resolve("c4:3,0", chosen, Map.of("HOME", home.toString(),
                "HF_HUB_OFFLINE", "1"), new PrintStream(err, true));
        assertEquals(List.of(snapshot.resolve("en/c4-train.00003-of-01024.json.gz"),
                snapshot.resolve("en/c4-train.00000-of-01024.json.gz")), s.files());
        assertEquals("layerscope: C4 c4:3,0 is not in " + chosen + "; using the copy in the Hugging Face cache " + hub + "\n",
                err.toString());
    }

    @Test
    void hfHomeIsHonouredAndTheChosenCacheComesFirst() throws Exception {
        Path hfHome = tmp.resolve("hf");
        Path elsewhere = c4(hfHome.resolve("hub"), "00000");
        Path chosen = tmp.resolve("mine");
        Path own = c4(chosen, "00000");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, String> env = Map.of("HOME", tmp.resolve("home").toString(), "HF_HOME", hfHome.toString(), "HF_HUB_OFFLINE", "1");
        // offline, the chosen cache's own copy is taken through the Hub client, silently
        assertEquals(List.of(own.resolve("en/c4-train.00000-of-01024.json.gz")),
                CalibrationSources.resolve("c4", chosen, env, new PrintStream(err, true)).files());
        assertEquals("", err.toString());
        Files.delete(own.resolve("en/c4-train.00000-of-01024.json.gz"));
        assertEquals(List.of(elsewhere.resolve("en/c4-train.00000-of-01024.json.gz")),
                CalibrationSources.resolve("c4", chosen, env, new PrintStream(err, true)).files());
        assertEquals("layerscope: C4 c4 is not in " + chosen + "; using the copy in the Hugging Face cache " + hfHome.resolve("hub")
                + "\n", err.toString());
    }
}
