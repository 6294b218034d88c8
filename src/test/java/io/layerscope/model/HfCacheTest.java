package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the Hugging Face caches are, for model resolution and the Hub client alike, with exact paths. */
class HfCacheTest {
    private static final String COMMIT = "4e20de362430cd3b72f300e6b0f18e50e7166e08";

    @TempDir
    Path tmp;

    private Path home() {
        return tmp.resolve("home");
    }

    @Test
    void theDefaultHubCacheFollowsHuggingfaceHub() {
        Path home = home();
        assertEquals(home.resolve(".cache/huggingface/hub"), HfCache.defaultHubCache(Map.of(), home));
        assertEquals(tmp.resolve("xdg/huggingface/hub"),
                HfCache.defaultHubCache(Map.of("XDG_CACHE_HOME", tmp.resolve("xdg").toString()), home));
        assertEquals(tmp.resolve("hf/hub"), HfCache.defaultHubCache(Map.of("HF_HOME", tmp.resolve("hf").toString(),
                "XDG_CACHE_HOME", tmp.resolve("xdg").toString()), home));
        // the older name, which HfCache.defaultHubCache used to ignore
        assertEquals(tmp.resolve("old"), HfCache.defaultHubCache(Map.of("HUGGINGFACE_HUB_CACHE",
                tmp.resolve("old").toString(), "HF_HOME", tmp.resolve("hf").toString()), home));
        assertEquals(tmp.resolve("new"), HfCache.defaultHubCache(Map.of("HF_HUB_CACHE", tmp.resolve("new").toString(),
                "HUGGINGFACE_HUB_CACHE", tmp.resolve("old").toString()), home));
        // blank is unset
        assertEquals(home.resolve(".cache/huggingface/hub"), HfCache.defaultHubCache(Map.of("HF_HUB_CACHE", " "), home));
    }

    @Test
    void aLeadingTildeIsTheHomeDirectoryInEveryVariable() {
        Path home = home();
        assertEquals(home.resolve("hf/hub"), HfCache.defaultHubCache(Map.of("HF_HOME", "~/hf"), home));
        assertEquals(home.resolve("hub-cache"), HfCache.defaultHubCache(Map.of("HF_HUB_CACHE", "~/hub-cache"), home));
        assertEquals(home.resolve("old"), HfCache.defaultHubCache(Map.of("HUGGINGFACE_HUB_CACHE", "~/old"), home));
        assertEquals(home.resolve("xdg/huggingface/hub"), HfCache.defaultHubCache(Map.of("XDG_CACHE_HOME", "~/xdg"), home));
        assertEquals(home.resolve("hub"), HfCache.defaultHubCache(Map.of("HF_HOME", "~"), home));
        assertEquals(new HfCache.CacheDir(home.resolve("w"), "--cache-dir"),
                HfCache.cacheDir(Map.of(), home, Path.of("~/w")));
        // only a leading "~/" or "~" alone: "~user" and "a/~" are ordinary names
        assertEquals(Path.of("~user").toAbsolutePath(), HfCache.expand("~user", home));
        assertEquals(Path.of("a/~").toAbsolutePath(), HfCache.expand("a/~", home));
    }

    @Test
    void layerscopesOwnCachesLiveInTheUsersCacheDirectory() {
        assertEquals(Path.of("/home/u/.cache/layerscope/windows"), HfCache.layerscopeCache(Map.of("HOME", "/home/u"), "windows"));
        assertEquals(Path.of("/home/u/.cache/layerscope/windows"),
                HfCache.layerscopeCache(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", " "), "windows"), "blank: the default");
        assertEquals(Path.of("/x/cache/layerscope/windows"),
                HfCache.layerscopeCache(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/x/cache"), "windows"));
        assertEquals(Path.of("/home/u/c/layerscope/sha256"),
                HfCache.layerscopeCache(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "~/c"), "sha256"));
    }

    @Test
    void theHomeIsHomeElseUserHome() {
        assertEquals(tmp.resolve("h"), HfCache.home(Map.of("HOME", tmp.resolve("h") + "/./")));
        assertEquals(Path.of(System.getProperty("user.home")).toAbsolutePath().normalize(), HfCache.home(Map.of()));
    }

    @Test
    void theCacheDirIsTheOptionThenAHuggingFaceVariableThenLlmWeights() {
        Path home = home();
        Map<String, String> all = Map.of("HF_HUB_CACHE", "~/new", "HUGGINGFACE_HUB_CACHE", "~/old", "HF_HOME", "~/hf",
                "XDG_CACHE_HOME", "~/xdg");
        assertEquals(new HfCache.CacheDir(tmp.resolve("opt"), "--cache-dir"), HfCache.cacheDir(all, home, tmp.resolve("opt")));
        assertEquals(new HfCache.CacheDir(home.resolve("new"), "HF_HUB_CACHE"), HfCache.cacheDir(all, home, null));
        assertEquals(new HfCache.CacheDir(home.resolve("old"), "HUGGINGFACE_HUB_CACHE"),
                HfCache.cacheDir(Map.of("HUGGINGFACE_HUB_CACHE", "~/old", "HF_HOME", "~/hf"), home, null));
        assertEquals(new HfCache.CacheDir(home.resolve("hf/hub"), "HF_HOME"),
                HfCache.cacheDir(Map.of("HF_HOME", "~/hf", "XDG_CACHE_HOME", "~/xdg"), home, null));
        // XDG_CACHE_HOME moves the Hugging Face libraries' cache, not layerscope's default llm_weights
        assertEquals(new HfCache.CacheDir(Path.of("llm_weights").toAbsolutePath(), "default"),
                HfCache.cacheDir(Map.of("XDG_CACHE_HOME", "~/xdg"), home, null));
    }

    @Test
    void theCacheDirIsSearchedThenTheDefaultHubCacheOnce() {
        Path home = home();
        Path own = tmp.resolve("llm_weights");
        assertEquals(List.of(own, home.resolve("old")), HfCache.searched(own, Map.of("HUGGINGFACE_HUB_CACHE", "~/old"), home));
        assertEquals(List.of(own, home.resolve("xdg/huggingface/hub")),
                HfCache.searched(own, Map.of("XDG_CACHE_HOME", "~/xdg"), home));
        // the same directory however it is spelled is searched once, as it was given
        Path spelled = home.resolve("hf/./hub/../hub");
        assertEquals(List.of(spelled), HfCache.searched(spelled, Map.of("HF_HOME", "~/hf"), home));
    }

    @Test
    void aRevisionLeadsThroughItsRefToTheSnapshot() throws Exception {
        Path repo = tmp.resolve("cache").resolve(HfCache.repoFolder("meta-llama/Llama-3.2-1B"));
        assertEquals("models--meta-llama--Llama-3.2-1B", repo.getFileName().toString());
        assertEquals("datasets--allenai--c4", HfCache.repoFolder("datasets", "allenai/c4"));
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT));
        Files.createDirectories(repo.resolve("refs/pr"));
        Files.writeString(repo.resolve("refs/main"), COMMIT + "\n");
        Files.writeString(repo.resolve("refs/pr/1"), "not a commit");
        assertEquals(Optional.of(snap), HfCache.snapshot(repo, "main"));
        assertEquals(Optional.of(snap), HfCache.snapshot(repo, COMMIT));
        assertEquals(Optional.empty(), HfCache.snapshot(repo, "pr/1"));
        assertEquals(Optional.empty(), HfCache.snapshot(repo, "dev"));
        // found as a model only with its config.json
        assertEquals(Optional.empty(), HfCache.find(tmp.resolve("cache"), "meta-llama/Llama-3.2-1B", "main"));
        Files.writeString(snap.resolve("config.json"), "{}");
        assertEquals(Optional.of(new ResolvedModel(snap, ResolvedModel.Origin.CACHE, "meta-llama/Llama-3.2-1B", "main",
                COMMIT)), HfCache.find(tmp.resolve("cache"), "meta-llama/Llama-3.2-1B", "main"));
        // a cache root spelled with "." still finds its refs
        assertEquals(COMMIT, HfCache.find(tmp.resolve("./cache"), "meta-llama/Llama-3.2-1B", "main").orElseThrow().commit());
        assertThrows(LayerscopeException.class, () -> HfCache.refFile(repo, "../../x"));
    }
}
