package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSettingsTest {

    @TempDir
    Path tmp;

    Map<String, String> env(String... kv) {
        Map<String, String> map = new HashMap<>();
        map.put("HOME", tmp.resolve("home").toString());
        for (int i = 0; i < kv.length; i += 2) {
            map.put(kv[i], kv[i + 1]);
        }
        return map;
    }

    @Test
    void cacheDirOptionWinsThenHfHubCacheThenHfHomeThenLlmWeights() {
        Map<String, String> all = env("HF_HUB_CACHE", tmp.resolve("hub-cache").toString(), "HF_HOME",
                tmp.resolve("hf-home").toString());
        HubSettings option = HubSettings.fromEnvironment(all, tmp.resolve("opt"));
        assertEquals(tmp.resolve("opt"), option.cacheDir());
        assertEquals("--cache-dir", option.cacheDirSource());

        HubSettings hubCache = HubSettings.fromEnvironment(all, null);
        assertEquals(tmp.resolve("hub-cache"), hubCache.cacheDir());
        assertEquals("HF_HUB_CACHE", hubCache.cacheDirSource());

        HubSettings hfHome = HubSettings.fromEnvironment(env("HF_HOME", tmp.resolve("hf-home").toString()), null);
        assertEquals(tmp.resolve("hf-home/hub"), hfHome.cacheDir());
        assertEquals("HF_HOME", hfHome.cacheDirSource());

        HubSettings fallback = HubSettings.fromEnvironment(env(), null);
        assertEquals(Path.of("llm_weights").toAbsolutePath(), fallback.cacheDir());
        assertEquals("default", fallback.cacheDirSource());

        HubSettings legacy = HubSettings.fromEnvironment(env("HUGGINGFACE_HUB_CACHE", "~/old"), null);
        assertEquals(tmp.resolve("home/old"), legacy.cacheDir());
        assertEquals(Path.of("rel").toAbsolutePath(), HubSettings.fromEnvironment(env(), Path.of("rel")).cacheDir());
    }

    @Test
    void theCacheDirIsWhereModelResolutionLooksWithTheSameTildeExpansion() {
        Path home = tmp.resolve("home");
        for (String[] kv : new String[][] {{"HF_HUB_CACHE", "~/hub-cache"}, {"HUGGINGFACE_HUB_CACHE", "~/old"},
                {"HF_HOME", "~/hf"}}) {
            Map<String, String> e = env(kv);
            HubSettings s = HubSettings.fromEnvironment(e, null);
            assertEquals(kv[0], s.cacheDirSource());
            assertEquals(HfCache.defaultHubCache(e, home), s.cacheDir(), kv[0]);
            assertEquals(List.of(s.cacheDir()), HfCache.searched(s.cacheDir(), e, home), kv[0]);
        }
        assertEquals(home.resolve("hub-cache"), HubSettings.fromEnvironment(env("HF_HUB_CACHE", "~/hub-cache"), null).cacheDir());
        assertEquals(home.resolve("hf/hub"), HubSettings.fromEnvironment(env("HF_HOME", "~/hf"), null).cacheDir());
        assertEquals(home.resolve("w"), HubSettings.fromEnvironment(env(), Path.of("~/w")).cacheDir());
    }

    @Test
    void theTokenFileFollowsXdgCacheHomeAndTilde() throws IOException {
        Path xdgToken = tmp.resolve("home/xdg/huggingface/token");
        Files.createDirectories(xdgToken.getParent());
        Files.writeString(xdgToken, "hf_xdg");
        HubSettings s = HubSettings.fromEnvironment(env("XDG_CACHE_HOME", "~/xdg"), null);
        assertEquals(Optional.of("hf_xdg"), s.token());
        assertEquals("token file " + xdgToken, s.tokenSource());
        assertEquals("default", s.cacheDirSource());
    }

    @Test
    void tokenComesFromHfTokenElseTheTokenFile() throws IOException {
        assertEquals(Optional.of("hf_env"), HubSettings.fromEnvironment(env("HF_TOKEN", " hf_env\n"), null).token());
        assertFalse(HubSettings.fromEnvironment(env("HF_TOKEN", ""), null).hasToken());

        Path defaultFile = tmp.resolve("home/.cache/huggingface/token");
        Files.createDirectories(defaultFile.getParent());
        Files.writeString(defaultFile, "hf_default_file\n");
        HubSettings fromDefault = HubSettings.fromEnvironment(env(), null);
        assertEquals(Optional.of("hf_default_file"), fromDefault.token());
        assertEquals("token file " + defaultFile, fromDefault.tokenSource());

        Path hfHome = tmp.resolve("hf-home");
        Files.createDirectories(hfHome);
        Files.writeString(hfHome.resolve("token"), "hf_home_file");
        assertEquals(Optional.of("hf_home_file"),
                HubSettings.fromEnvironment(env("HF_HOME", hfHome.toString()), null).token());

        Files.writeString(tmp.resolve("elsewhere"), "hf_token_path");
        assertEquals(Optional.of("hf_token_path"), HubSettings.fromEnvironment(
                env("HF_TOKEN_PATH", tmp.resolve("elsewhere").toString()), null).token());

        HubSettings envWins = HubSettings.fromEnvironment(env("HF_TOKEN", "hf_env"), null);
        assertEquals(Optional.of("hf_env"), envWins.token());
        assertEquals("HF_TOKEN", envWins.tokenSource());
    }

    @Test
    void theTokenIsNeverInToString() {
        HubSettings s = HubSettings.fromEnvironment(env("HF_TOKEN", "hf_SECRET123"), tmp);
        assertFalse(s.toString().contains("hf_SECRET123"));
        assertEquals("HubSettings[endpoint=https://huggingface.co, cacheDir=" + tmp
                + " (--cache-dir), token=set, from HF_TOKEN, offline=false]", s.toString());
    }

    @Test
    void offlineAcceptsWhatPythonAccepts() {
        for (String yes : new String[] {"1", "ON", "yes", "True"}) {
            assertTrue(HubSettings.fromEnvironment(env("HF_HUB_OFFLINE", yes), null).offline(), yes);
        }
        for (String no : new String[] {"0", "false", "off", ""}) {
            assertFalse(HubSettings.fromEnvironment(env("HF_HUB_OFFLINE", no), null).offline(), no);
        }
        assertTrue(HubSettings.fromEnvironment(env("TRANSFORMERS_OFFLINE", "1"), null).offline());
    }

    @Test
    void endpointAndTimeouts() {
        assertEquals(URI.create("https://huggingface.co"), HubSettings.fromEnvironment(env(), null).endpoint());
        assertEquals(URI.create("https://hf-mirror.example/hub"),
                HubSettings.fromEnvironment(env("HF_ENDPOINT", "https://hf-mirror.example/hub/"), null).endpoint());
        LayerscopeException bad = assertThrows(LayerscopeException.class,
                () -> HubSettings.fromEnvironment(env("HF_ENDPOINT", "huggingface.co"), null));
        assertEquals("HF_ENDPOINT=huggingface.co is not an http(s) URL; set it to the Hub or a mirror, e.g."
                + " https://huggingface.co, or unset it", bad.getMessage());

        HubSettings s = HubSettings.fromEnvironment(env("HF_HUB_ETAG_TIMEOUT", "2.5"), null);
        assertEquals(Duration.ofMillis(2500), s.metadataTimeout());
        assertEquals(Duration.ofSeconds(10), s.downloadTimeout());
        LayerscopeException timeout = assertThrows(LayerscopeException.class,
                () -> HubSettings.fromEnvironment(env("HF_HUB_DOWNLOAD_TIMEOUT", "soon"), null));
        assertEquals("HF_HUB_DOWNLOAD_TIMEOUT=soon is not a number of seconds > 0; unset it for the default 10",
                timeout.getMessage());
        assertEquals(Duration.ofSeconds(60), s.apiDeadline());
        assertEquals(Duration.ofSeconds(2),
                HubSettings.fromEnvironment(env("LAYERSCOPE_HUB_API_DEADLINE", "2"), null).apiDeadline());
        LayerscopeException deadline = assertThrows(LayerscopeException.class,
                () -> HubSettings.fromEnvironment(env("LAYERSCOPE_HUB_API_DEADLINE", "0"), null));
        assertEquals("LAYERSCOPE_HUB_API_DEADLINE=0 is not a number of seconds > 0; unset it for the default 60",
                deadline.getMessage());
        assertEquals(4, s.parallelDownloads());
        assertEquals(2, s.withParallelDownloads(2).parallelDownloads());
    }
}
