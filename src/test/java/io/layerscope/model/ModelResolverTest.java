package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.ResolvedModel.Origin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelResolverTest {
    private static final String REPO = "meta-llama/Llama-3.2-1B";
    private static final String MAIN = "4e20de362430cd3b72f300e6b0f18e50e7166e08";
    private static final String OTHER = "221e3535e1ac4840bdf061a12b634139c84e144c";

    @TempDir
    Path tmp;

    /** A snapshot as huggingface_hub lays it out: refs/<rev> -> commit, snapshot files symlinked to blobs. */
    private Path snapshot(Path cache, String repo, String ref, String commit) throws Exception {
        Path repoDir = cache.resolve("models--" + repo.replace("/", "--"));
        Path blob = Files.createDirectories(repoDir.resolve("blobs")).resolve("c0ffee" + commit.substring(0, 6));
        Files.writeString(blob, "{\"model_type\": \"llama\"}");
        Path snap = Files.createDirectories(repoDir.resolve("snapshots").resolve(commit));
        if (!Files.exists(snap.resolve("config.json"))) {
            Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs").resolve(blob.getFileName()));
        }
        if (ref != null) {
            Path refFile = repoDir.resolve("refs").resolve(ref);
            Files.createDirectories(refFile.getParent());
            Files.writeString(refFile, commit);
        }
        return snap;
    }

    private ModelResolver resolver(Map<String, String> env) {
        return new ModelResolver(null, env, tmp.resolve("home"));
    }

    @Test
    void aRepoIdIsFoundInTheCacheDirThroughItsRef() throws Exception {
        Path cache = tmp.resolve("llm_weights");
        Path snap = snapshot(cache, REPO, "main", MAIN);
        ResolvedModel m = resolver(Map.of()).resolve(REPO, cache, "main");
        assertEquals(new ResolvedModel(snap, Origin.CACHE, REPO, "main", MAIN), m);
        assertEquals("meta-llama/Llama-3.2-1B@main (commit " + MAIN + ") from the cache at " + snap, m.describe());
    }

    /** --model=~/m: the shell leaves the ~, which is the home directory, not a directory named ~ here. */
    @Test
    void aLeadingTildeIsTheHomeDirectory() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("home").resolve("models").resolve("m"));
        ResolvedModel m = resolver(Map.of()).resolve("~/models/m", tmp.resolve("c"), "main");
        assertEquals(model, m.dir());
    }

    @Test
    void aCommitHashNeedsNoRefAndTagsAndPrRefsWork() throws Exception {
        Path cache = tmp.resolve("c");
        Path snap = snapshot(cache, REPO, null, OTHER);
        assertEquals(new ResolvedModel(snap, Origin.CACHE, REPO, OTHER, OTHER), resolver(Map.of()).resolve(REPO, cache, OTHER));
        snapshot(cache, REPO, "pr/7", OTHER);
        assertEquals(snap, resolver(Map.of()).resolve(REPO, cache, "pr/7").dir());
    }

    @Test
    void theHuggingFaceCachesAreSearchedAfterTheCacheDir() throws Exception {
        Path cacheDir = tmp.resolve("llm_weights");
        Path hubCache = tmp.resolve("hub-cache");
        Path viaHubCache = snapshot(hubCache, REPO, "main", MAIN);
        assertEquals(viaHubCache, resolver(Map.of("HF_HUB_CACHE", hubCache.toString(), "HF_HOME", "/nowhere"))
                .resolve(REPO, cacheDir, "main").dir());

        Path hfHome = tmp.resolve("hf-home");
        Path viaHome = snapshot(hfHome.resolve("hub"), REPO, "main", OTHER);
        assertEquals(viaHome, resolver(Map.of("HF_HOME", hfHome.toString())).resolve(REPO, cacheDir, "main").dir());

        Path viaUserHome = snapshot(tmp.resolve("home/.cache/huggingface/hub"), REPO, "main", MAIN);
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        assertEquals(viaUserHome, new ModelResolver(null, Map.of(), tmp.resolve("home"), new java.io.PrintStream(err, true))
                .resolve(REPO, cacheDir, "main").dir());
        assertEquals("layerscope: " + REPO + "@main is not in " + cacheDir + "; using the copy in the Hugging Face cache "
                + tmp.resolve("home/.cache/huggingface/hub") + " (" + viaUserHome + ")\n", err.toString());

        // the cache dir wins when both hold it
        Path own = snapshot(cacheDir, REPO, "main", OTHER);
        assertEquals(own, resolver(Map.of("HF_HUB_CACHE", hubCache.toString())).resolve(REPO, cacheDir, "main").dir());
    }

    @Test
    void theOlderHubCacheNameAndTildeAreHonouredAsTheHubClientHonoursThem() throws Exception {
        Path cacheDir = tmp.resolve("llm_weights");
        Path old = snapshot(tmp.resolve("old-cache"), REPO, "main", MAIN);
        assertEquals(old, resolver(Map.of("HUGGINGFACE_HUB_CACHE", tmp.resolve("old-cache").toString()))
                .resolve(REPO, cacheDir, "main").dir());

        Path home = tmp.resolve("home");
        assertEquals(List.of(cacheDir, home.resolve("old")), resolver(Map.of("HUGGINGFACE_HUB_CACHE", "~/old"))
                .cachesSearched(cacheDir));
        assertEquals(List.of(cacheDir, home.resolve("hf/hub")), resolver(Map.of("HF_HOME", "~/hf")).cachesSearched(cacheDir));
        assertEquals(List.of(cacheDir, home.resolve("hub-cache")), resolver(Map.of("HF_HUB_CACHE", "~/hub-cache"))
                .cachesSearched(cacheDir));
        assertEquals(List.of(cacheDir, home.resolve("xdg/huggingface/hub")), resolver(Map.of("XDG_CACHE_HOME", "~/xdg"))
                .cachesSearched(cacheDir));
        Path viaTilde = snapshot(home.resolve("hf/hub"), REPO, "main", OTHER);
        assertEquals(viaTilde, resolver(Map.of("HF_HOME", "~/hf")).resolve(REPO, cacheDir, "main").dir());
    }

    @Test
    void aRepoIdNowhereToBeFoundSaysWhereItLooked() {
        Path cacheDir = tmp.resolve("llm_weights");
        Path hub = tmp.resolve("hub");
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> resolver(Map.of("HF_HUB_CACHE", hub.toString())).resolve(REPO, cacheDir, "main"));
        assertEquals("--model meta-llama/Llama-3.2-1B: not a local directory, and revision \"main\" of"
                + " meta-llama/Llama-3.2-1B is not in the Hugging Face caches searched (" + cacheDir
                + "/models--meta-llama--Llama-3.2-1B, " + hub + "/models--meta-llama--Llama-3.2-1B). Download it first"
                + " (for example: hf download meta-llama/Llama-3.2-1B --revision main --cache-dir " + cacheDir
                + "), point --cache-dir at the cache that holds it, pass a local model directory, or try --model demo.",
                e.getMessage());
    }

    @Test
    void aSourceIsAskedOnlyWhenNoCacheHasTheModel() throws Exception {
        Path cacheDir = tmp.resolve("llm_weights");
        List<String> calls = new ArrayList<>();
        ModelSource hub = (repo, rev, dir) -> {
            calls.add(repo + "@" + rev + " -> " + dir);
            return new ResolvedModel(dir.resolve("x"), Origin.DOWNLOADED, repo, rev, OTHER);
        };
        ModelResolver r = new ModelResolver(hub, Map.of(), tmp.resolve("home"));
        ResolvedModel m = r.resolve(REPO, cacheDir, "v1.0");
        assertEquals(Origin.DOWNLOADED, m.origin());
        assertEquals(List.of(REPO + "@v1.0 -> " + cacheDir), calls);
        snapshot(cacheDir, REPO, "main", MAIN);
        assertEquals(Origin.CACHE, r.resolve(REPO, cacheDir, "main").origin());
        assertEquals(1, calls.size());
    }

    @Test
    void aLocalDirectoryIsUsedAsItIs() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("my model"));
        ResolvedModel m = resolver(Map.of()).resolve(dir.toString(), tmp.resolve("c"), "main");
        assertEquals(new ResolvedModel(dir, Origin.LOCAL, null, null, null), m);
        assertEquals(dir + " (local directory)", m.describe());
    }

    @Test
    void aLocalSnapshotDirectoryKeepsItsRepoAndCommit() throws Exception {
        Path snap = snapshot(tmp.resolve("somewhere"), REPO, "main", MAIN);
        ResolvedModel m = resolver(Map.of()).resolve(snap.toString(), tmp.resolve("c"), "main");
        assertEquals(new ResolvedModel(snap, Origin.LOCAL, REPO, MAIN, MAIN), m);
    }

    @Test
    void demoIsTheEmbeddedModelInTheCacheDir() throws Exception {
        Path cache = tmp.resolve("c");
        // a complete demo directory is reused as it is, so nothing is generated here
        Path dir = Files.createDirectories(cache.resolve("layerscope-demo").resolve(DemoModel.VERSION));
        Files.writeString(dir.resolve(DemoModel.MARKER), "{}");
        ResolvedModel m = resolver(Map.of()).resolve("demo", cache, "main");
        assertEquals(new ResolvedModel(dir, Origin.DEMO, "demo", DemoModel.VERSION, null), m);
        assertNull(m.commit());
    }

    @Test
    void badInputIsNamed() throws Exception {
        Path cache = tmp.resolve("c");
        assertMessage("--model ./no/such/dir: no such directory, and not a Hugging Face repo id (org/name); pass a"
                + " model directory, a repo id such as meta-llama/Llama-3.2-1B, or demo", "./no/such/dir", "main");
        Path file = Files.writeString(tmp.resolve("config.json"), "{}");
        assertMessage("--model " + file + ": is a file; pass the directory that holds config.json and the safetensors"
                + " weights", file.toString(), "main");
        assertMessage("--revision ../../etc: not a branch, tag or commit name", REPO, "../../etc");
        assertMessage("--model is empty; pass a model directory, a Hugging Face repo id such as"
                + " meta-llama/Llama-3.2-1B, or demo", " ", "main");
        assertEquals(List.of(cache, tmp.resolve("home/.cache/huggingface/hub")), resolver(Map.of()).cachesSearched(cache));
    }

    private void assertMessage(String expected, String model, String revision) {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> resolver(Map.of()).resolve(model, tmp.resolve("c"), revision));
        assertEquals(expected, e.getMessage());
    }
}
