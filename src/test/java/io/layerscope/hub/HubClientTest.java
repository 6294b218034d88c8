package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.ReferencePython;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {

    static final String REPO = "tiny-org/tiny-llama";
    static final String COMMIT = "1111111111111111111111111111111111111111";
    static final String COMMIT2 = "2222222222222222222222222222222222222222";
    static final String TOKEN = "hf_TESTtokenThatMustNeverBePrinted";

    static final byte[] CONFIG = "{\"model_type\": \"llama\", \"hidden_size\": 8}\n".getBytes(StandardCharsets.UTF_8);
    static final byte[] TOKENIZER = "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}\n".getBytes(StandardCharsets.UTF_8);
    static final byte[] TOKENIZER_CONFIG = "{\"bos_token\": \"<s>\"}\n".getBytes(StandardCharsets.UTF_8);
    static final byte[] WEIGHTS = FakeHub.bytes(300_000, 1);
    static final byte[] BIN = FakeHub.bytes(5_000, 2);

    @TempDir
    Path tmp;
    FakeHub hub;
    RecordingProgress progress = new RecordingProgress();

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(".gitattributes", "*.safetensors filter=lfs\n".getBytes(StandardCharsets.UTF_8));
        files.put("config.json", CONFIG);
        files.put("tokenizer.json", TOKENIZER);
        files.put("tokenizer_config.json", TOKENIZER_CONFIG);
        files.put("model.safetensors", WEIGHTS);
        files.put("pytorch_model.bin", BIN);
        files.put("original/consolidated.00.pth", BIN);
        hub.commit(RepoType.MODEL, REPO, COMMIT, files);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    HubSettings settings(String... env) {
        Map<String, String> map = new HashMap<>();
        map.put("HF_ENDPOINT", hub.endpoint());
        map.put("HOME", tmp.resolve("home").toString()); // no real token file is read
        for (int i = 0; i < env.length; i += 2) {
            map.put(env[i], env[i + 1]);
        }
        return HubSettings.fromEnvironment(map, tmp.resolve("cache"));
    }

    HubClient client(String... env) {
        return new HubClient(settings(env), progress);
    }

    Path repoDir() {
        return tmp.resolve("cache").resolve("models--tiny-org--tiny-llama");
    }

    @Test
    void downloadsAModelIntoTheHuggingFaceLayout() throws IOException {
        ResolvedSnapshot snapshot = client("HF_TOKEN", TOKEN).model(REPO, null);

        assertEquals(REPO, snapshot.repoId());
        assertEquals("main", snapshot.revision());
        assertEquals(COMMIT, snapshot.commitSha());
        assertEquals(repoDir().resolve("snapshots").resolve(COMMIT), snapshot.dir());
        assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"),
                snapshot.files());
        assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.file("config.json")));
        assertArrayEquals(TOKENIZER, Files.readAllBytes(snapshot.file("tokenizer.json")));
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertEquals(Map.of("config.json", FakeHub.sha256(CONFIG), "tokenizer.json", FakeHub.sha256(TOKENIZER),
                "tokenizer_config.json", FakeHub.sha256(TOKENIZER_CONFIG), "model.safetensors", FakeHub.sha256(WEIGHTS)),
                snapshot.sha256ByFile());

        // blobs named by etag (git sha1 for small files, sha256 for LFS), linked relatively, ref recorded
        assertEquals(Path.of("../../blobs/" + FakeHub.gitBlobSha1(CONFIG)),
                Files.readSymbolicLink(snapshot.file("config.json")));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(WEIGHTS)),
                Files.readSymbolicLink(snapshot.file("model.safetensors")));
        assertEquals(COMMIT, Files.readString(repoDir().resolve("refs/main")));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertEquals(4, blobs.count()); // and no .incomplete left
        }
        assertTrue(Files.isRegularFile(tmp.resolve("cache/.locks/models--tiny-org--tiny-llama/"
                + FakeHub.sha256(WEIGHTS) + ".lock")));

        // never the .bin/.pth duplicates; the token goes to the Hub and never to the CDN
        assertTrue(hub.requests().stream().noneMatch(r -> r.path().contains(".bin") || r.path().contains(".pth")),
                FakeHub.paths(hub.requests()).toString());
        assertEquals(1, hub.requests("cdn").size());
        assertNull(hub.requests("cdn").get(0).authorization());
        assertTrue(hub.requests("hub").stream().allMatch(r -> ("Bearer " + TOKEN).equals(r.authorization())));

        assertEquals(List.of("model tiny-org/tiny-llama: 4 files total="
                + (CONFIG.length + TOKENIZER.length + TOKENIZER_CONFIG.length + WEIGHTS.length) + " resumed=0"),
                progress.begins);
        assertEquals(CONFIG.length + TOKENIZER.length + TOKENIZER_CONFIG.length + WEIGHTS.length, progress.advanced.get());
        assertEquals(1, progress.ends.get());
    }

    @Test
    void pythonFindsWhatWasDownloaded() throws Exception {
        ResolvedSnapshot snapshot = client().model(REPO, "main");
        // huggingface_hub's try_to_load_from_cache, transcribed: refs -> snapshots/<commit>/<file>
        String script = String.join("\n",
                "import os, sys, hashlib",
                "cache, repo, filename = sys.argv[1], sys.argv[2], sys.argv[3]",
                "repo_cache = os.path.join(cache, 'models--' + repo.replace('/', '--'))",
                "revision = open(os.path.join(repo_cache, 'refs', 'main')).read()",
                "path = os.path.join(repo_cache, 'snapshots', revision, filename)",
                "assert os.path.isfile(path), path",
                "print(revision, os.readlink(path), hashlib.sha256(open(path, 'rb').read()).hexdigest())");
        String out = ReferencePython.run(script, tmp.resolve("cache").toString(), REPO, "model.safetensors");
        assertEquals(COMMIT + " ../../blobs/" + FakeHub.sha256(WEIGHTS) + " " + FakeHub.sha256(WEIGHTS), out.strip());
        assertEquals(FakeHub.sha256(WEIGHTS), snapshot.sha256ByFile().get("model.safetensors"));
    }

    @Test
    void aSecondRunOnlyAsksForTheCommit() {
        client().model(REPO, "main");
        int before = hub.requests().size();
        progress = new RecordingProgress();
        ResolvedSnapshot again = client().model(REPO, "main");
        assertEquals(List.of("GET /api/models/tiny-org/tiny-llama/revision/main"),
                FakeHub.paths(hub.requests().subList(before, hub.requests().size())));
        assertEquals(COMMIT, again.commitSha());
        assertTrue(progress.begins.isEmpty());
    }

    @Test
    void downloadsAShardedModelThroughItsIndex() throws IOException {
        byte[] shard1 = FakeHub.bytes(70_000, 11);
        byte[] shard2 = FakeHub.bytes(50_000, 12);
        byte[] index = ("{\"metadata\": {\"total_size\": 120000}, \"weight_map\": {"
                + "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\","
                + "\"model.layers.0.mlp.up_proj.weight\": \"model-00001-of-00002.safetensors\","
                + "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", CONFIG);
        files.put("generation_config.json", TOKENIZER_CONFIG);
        files.put("model.safetensors.index.json", index);
        files.put("model-00001-of-00002.safetensors", shard1);
        files.put("model-00002-of-00002.safetensors", shard2);
        files.put("pytorch_model-00001-of-00002.bin", BIN);
        hub.commit(RepoType.MODEL, "tiny-org/sharded", COMMIT2, files);

        ResolvedSnapshot snapshot = client().model("tiny-org/sharded", "main");

        assertEquals(List.of("config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "model.safetensors.index.json"), snapshot.files());
        assertArrayEquals(shard1, Files.readAllBytes(snapshot.file("model-00001-of-00002.safetensors")));
        assertArrayEquals(shard2, Files.readAllBytes(snapshot.file("model-00002-of-00002.safetensors")));
        assertEquals(FakeHub.sha256(shard2), snapshot.sha256ByFile().get("model-00002-of-00002.safetensors"));
        assertTrue(hub.requests().stream().noneMatch(r -> r.path().endsWith(".bin")));
    }

    @Test
    void aGatedRepoWithoutTokenSaysWhereToAcceptTheLicence() {
        hub.gate(RepoType.MODEL, REPO, TOKEN);
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> client().model(REPO, "main"));
        assertEquals("model tiny-org/tiny-llama is gated: the Hub refused config.json (HTTP 401) because no token was"
                + " sent. Accept the licence at " + hub.endpoint() + "/tiny-org/tiny-llama while logged in, create a read"
                + " token at " + hub.endpoint() + "/settings/tokens and set HF_TOKEN to it (or run `hf auth login`,"
                + " which writes the token file $HF_HOME/token).", e.getMessage());
        assertNothingCached();
    }

    @Test
    void aGatedRepoWithARefusedTokenNeverShowsTheToken() {
        hub.gate(RepoType.MODEL, REPO, "hf_theRightOne");
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> client("HF_TOKEN", TOKEN).model(REPO, "main"));
        assertEquals("model tiny-org/tiny-llama is gated: the Hub refused config.json (HTTP 403) for the token from"
                + " HF_TOKEN. Accept the licence at " + hub.endpoint() + "/tiny-org/tiny-llama with the account that"
                + " owns this token (access to some repos is granted by hand and takes a while), or set HF_TOKEN to a"
                + " token of an account that has access.", e.getMessage());
        assertFalse(e.getMessage().contains(TOKEN));
    }

    @Test
    void aGatedRepoWithTheTokenDownloadsAndTheCdnNeverSeesIt() throws IOException {
        hub.gate(RepoType.MODEL, REPO, TOKEN);
        Path tokenFile = tmp.resolve("hf-home/token");
        Files.createDirectories(tokenFile.getParent());
        Files.writeString(tokenFile, TOKEN + "\n");
        ResolvedSnapshot snapshot = client("HF_HOME", tmp.resolve("hf-home").toString(), "HF_HUB_CACHE",
                tmp.resolve("cache").toString()).model(REPO, "main");
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertEquals(1, hub.requests("cdn").size());
        assertNull(hub.requests("cdn").get(0).authorization());
    }

    @Test
    void anUnknownRepoRevisionOrFileIsNamed() {
        LayerscopeException repo = assertThrows(LayerscopeException.class, () -> client().model("nobody/nothing", "main"));
        assertEquals("model nobody/nothing was not found at " + hub.endpoint() + " (HTTP 401): check the repo id"
                + " (e.g. meta-llama/Llama-3.2-1B), or, if it is private, set HF_TOKEN to a token with access to it.",
                repo.getMessage());

        LayerscopeException rev = assertThrows(LayerscopeException.class, () -> client().model(REPO, "v9"));
        assertEquals("revision \"v9\" does not exist in model tiny-org/tiny-llama: use a branch, tag or full commit sha"
                + " of that repo (the default is main).", rev.getMessage());

        LayerscopeException file = assertThrows(LayerscopeException.class,
                () -> client().snapshotOf(REPO, "main", RepoType.MODEL, List.of("config.json", "missing.json")));
        assertEquals("file missing.json does not exist in model tiny-org/tiny-llama at commit " + COMMIT
                + " (HTTP 404); see " + hub.endpoint() + "/tiny-org/tiny-llama/tree/" + COMMIT + " for its files.",
                file.getMessage());
        LayerscopeException first = assertThrows(LayerscopeException.class,
                () -> client().snapshotOf(REPO, "main", RepoType.MODEL, List.of("nothing.json")));
        assertEquals("file nothing.json does not exist in model tiny-org/tiny-llama at revision main (HTTP 404); see "
                + hub.endpoint() + "/tiny-org/tiny-llama/tree/main for its files.", first.getMessage());
        assertTrue(Files.isRegularFile(repoDir().resolve(".no_exist/" + COMMIT + "/missing.json")));
        assertTrue(new HubCache(tmp.resolve("cache")).isKnownMissing(new HubRepo(RepoType.MODEL, REPO), COMMIT,
                "missing.json"));
    }

    @Test
    void aModelWithoutSafetensorsOrConfigIsRefusedBeforeDownloading() {
        hub.commit(RepoType.MODEL, "tiny-org/bin-only", COMMIT2, Map.of("config.json", CONFIG, "pytorch_model.bin", BIN,
                "tf_model.h5", BIN));
        LayerscopeException bin = assertThrows(LayerscopeException.class, () -> client().model("tiny-org/bin-only", null));
        assertEquals("model tiny-org/bin-only at revision main (commit " + COMMIT2 + ") has no safetensors weights"
                + " (model.safetensors or model.safetensors.index.json); it has pytorch_model.bin, tf_model.h5."
                + " layerscope reads safetensors only: choose a revision that has them (the Hub's safetensors conversion"
                + " bot often opened one as refs/pr/N) or convert the checkpoint with transformers'"
                + " save_pretrained(safe_serialization=True).", bin.getMessage());
        hub.commit(RepoType.MODEL, "tiny-org/no-config", COMMIT2, Map.of("model.safetensors", WEIGHTS));
        LayerscopeException config = assertThrows(LayerscopeException.class,
                () -> client().model("tiny-org/no-config", null));
        assertEquals("model tiny-org/no-config at revision main (commit " + COMMIT2 + ") has no config.json: it is not"
                + " a transformers checkpoint that layerscope can read", config.getMessage());
        assertTrue(hub.requests().stream().allMatch(r -> r.path().startsWith("/api/")));
    }

    @Test
    void aConnectionCutHalfwayIsResumedWithARange() throws IOException {
        hub.cutOnce(WEIGHTS);
        ResolvedSnapshot snapshot = client().model(REPO, "main");

        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        List<FakeHub.Request> cdn = hub.requests("cdn");
        assertEquals(2, cdn.size());
        assertNull(cdn.get(0).range());
        long resumedAt = resumedWithin(cdn.get(1).range(), WEIGHTS.length / 2);
        assertEquals(1, progress.notices.size());
        assertTrue(progress.notices.get(0).startsWith("download of model.safetensors interrupted at "
                + resumedAt + " of " + WEIGHTS.length + " bytes"), progress.notices.get(0));
        assertEquals(CONFIG.length + TOKENIZER.length + TOKENIZER_CONFIG.length + WEIGHTS.length, progress.advanced.get());
    }

    @Test
    void aPartialFileFromAnEarlierRunIsResumed() throws IOException {
        Path part = repoDir().resolve("blobs/" + FakeHub.sha256(WEIGHTS) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(WEIGHTS, 123_456));

        ResolvedSnapshot snapshot = client().model(REPO, "main");

        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertEquals(List.of("bytes=123456-"), hub.requests("cdn").stream().map(FakeHub.Request::range).toList());
        assertFalse(Files.exists(part));
        assertTrue(progress.begins.get(0).endsWith(" resumed=123456"), progress.begins.toString());
    }

    @Test
    void aServerThatIgnoresRangeGivesTheWholeFileAgain() throws IOException {
        hub.ignoreRange();
        Path part = repoDir().resolve("blobs/" + FakeHub.sha256(WEIGHTS) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(WEIGHTS, 1000));

        ResolvedSnapshot snapshot = client().model(REPO, "main");

        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertEquals(CONFIG.length + TOKENIZER.length + TOKENIZER_CONFIG.length + WEIGHTS.length - 1000,
                progress.advanced.get());
    }

    @Test
    void aStalledDownloadIsDroppedAndResumed() throws IOException {
        hub.stallOnce(WEIGHTS, 3_000);
        HubSettings settings = settings().withDownloadTimeout(Duration.ofMillis(300));
        ResolvedSnapshot snapshot = new HubClient(settings, progress).model(REPO, "main");
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        // the notice is the cut: a download that waited out the stall would end with no notice and one request
        assertTrue(progress.notices.get(0).contains("(no data for 0.3 s)"), progress.notices.toString());
        resumedWithin(hub.requests("cdn").get(1).range(), WEIGHTS.length / 2);
    }

    /**
     * The offset of a resumed request's Range header, checked against the {@code sent} bytes the server
     * sent before it cut or stalled. The client resumes where its own copy ends: all that was sent
     * when the bytes arrived first, as they normally do here. Bytes in flight when a connection drops
     * can be lost on the client's side, so the offset may be lower, but never higher and never 0
     * (that would be a restart, not a resume).
     */
    private static long resumedWithin(String rangeHeader, long sent) {
        Matcher range = Pattern.compile("bytes=(\\d+)-").matcher(String.valueOf(rangeHeader));
        assertTrue(range.matches(), rangeHeader);
        long resumedAt = Long.parseLong(range.group(1));
        assertTrue(resumedAt > 0 && resumedAt <= sent, rangeHeader + " after " + sent + " bytes sent");
        return resumedAt;
    }

    @Test
    void aDownloadRemembersTheSha256ItVerified() throws IOException {
        hub.cutOnce(WEIGHTS); // resumed: the digest spans both requests and the bytes already on disk
        ResolvedSnapshot snapshot = client().model(REPO, "main");
        Path blob = snapshot.file("model.safetensors").toRealPath();
        assertEquals(FakeHub.sha256(WEIGHTS), remembered().get(blob.toString()));
        assertEquals(FakeHub.sha256(CONFIG), remembered().get(snapshot.file("config.json").toRealPath().toString()));

        // what a sweep's run.json gets without reading the file: the entry is believed while the blob is unchanged
        Path entry = rememberedEntry(blob);
        List<String> lines = Files.readAllLines(entry);
        Files.write(entry, List.of(lines.get(0), lines.get(1), "e".repeat(64)));
        assertEquals("e".repeat(64), new Sha256Cache(sha256Dir(), Duration.ofHours(1)).of(snapshot.file("model.safetensors")));
    }

    private Path sha256Dir() {
        return tmp.resolve("home/.cache/layerscope/sha256"); // settings() has HOME there and no XDG_CACHE_HOME
    }

    /** The Sha256Cache's entries: real path to sha256. */
    private Map<String, String> remembered() throws IOException {
        Map<String, String> out = new HashMap<>();
        if (Files.isDirectory(sha256Dir())) {
            try (Stream<Path> s = Files.list(sha256Dir())) {
                for (Path entry : s.toList()) {
                    List<String> lines = Files.readAllLines(entry);
                    out.put(lines.get(0), lines.get(2));
                }
            }
        }
        return out;
    }

    private Path rememberedEntry(Path real) throws IOException {
        try (Stream<Path> s = Files.list(sha256Dir())) {
            for (Path entry : s.toList()) {
                if (Files.readAllLines(entry).get(0).equals(real.toString())) {
                    return entry;
                }
            }
        }
        throw new AssertionError("no entry for " + real);
    }

    @Test
    void aCorruptedBodyIsRejectedAndNothingIsKept() throws IOException {
        hub.corrupt(WEIGHTS);
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> client().model(REPO, "main"));
        byte[] corrupted = WEIGHTS.clone();
        corrupted[corrupted.length / 2] ^= 0x5a;
        assertEquals("the download of model.safetensors of model tiny-org/tiny-llama (from " + hub.cdnOrigin()
                + "/blobs/" + FakeHub.sha256(WEIGHTS) + ") is corrupt: its sha256 is " + FakeHub.sha256(corrupted)
                + " where the Hub announced " + FakeHub.sha256(WEIGHTS) + ". Nothing was kept in the cache; run again,"
                + " and if it persists check any proxy between here and the Hub.", e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3tsignature"));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.getFileName().toString().startsWith(FakeHub.sha256(WEIGHTS))));
        }
        assertFalse(Files.exists(repoDir().resolve("snapshots/" + COMMIT + "/model.safetensors"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repoDir().resolve("refs/main")));
        assertTrue(remembered().keySet().stream().noneMatch(p -> p.contains(FakeHub.sha256(WEIGHTS))), remembered().toString());
    }

    @Test
    void aCdnErrorIsRetriedWhenTransientAndExplainedWhenNot() throws IOException {
        hub.cdnStatus(WEIGHTS, 503, 1);
        ResolvedSnapshot snapshot = client().model(REPO, "main");
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertEquals(List.of("download of model.safetensors interrupted at 0 of " + WEIGHTS.length
                + " bytes (HTTP 503); resuming, attempt 2 of 5"), progress.notices);

        Map<String, byte[]> files = Map.of("config.json", CONFIG, "model.safetensors", BIN);
        hub.commit(RepoType.MODEL, "tiny-org/expired", COMMIT2, files);
        hub.cdnStatus(BIN, 403, 100);
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> client("HF_TOKEN", TOKEN).model("tiny-org/expired", "main"));
        assertEquals("the download server " + hub.cdnOrigin() + "/blobs/" + FakeHub.sha256(BIN) + " answered HTTP 403"
                + " for model.safetensors of model tiny-org/expired (its signed link may have expired); run again to get"
                + " a fresh link, and if it persists check any proxy between here and it.", e.getMessage());
    }

    @Test
    void offlineUsesTheCacheWithoutAnyRequest() throws IOException {
        client().model(REPO, "main");
        int before = hub.requests().size();

        ResolvedSnapshot offline = client("HF_HUB_OFFLINE", "1").model(REPO, "main");

        assertEquals(before, hub.requests().size());
        assertEquals(COMMIT, offline.commitSha());
        assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"),
                offline.files());
        assertEquals(FakeHub.sha256(CONFIG), offline.sha256ByFile().get("config.json"));
    }

    @Test
    void offlineSaysWhatIsMissing() throws IOException {
        HubClient offline = client("HF_HUB_OFFLINE", "true");
        LayerscopeException none = assertThrows(LayerscopeException.class, () -> offline.model(REPO, "main"));
        assertEquals("HF_HUB_OFFLINE=1 is set, and the cache at " + tmp.resolve("cache") + " has no snapshot of model"
                + " tiny-org/tiny-llama for revision main (no " + repoDir().resolve("refs/main") + "). Run once where"
                + " the Hub is reachable (without HF_HUB_OFFLINE), or point --cache-dir (or HF_HUB_CACHE) at a cache"
                + " that has it.", none.getMessage());

        // a ref that holds no commit (a damaged or hand-made cache) is quoted, not called missing
        Path ref = Files.createDirectories(repoDir().resolve("refs")).resolve("main");
        Files.writeString(ref, "../..\n");
        assertEquals("HF_HUB_OFFLINE=1 is set, and the cache at " + tmp.resolve("cache") + " has no snapshot of model"
                + " tiny-org/tiny-llama for revision main (" + ref + " holds \"../..\", not a 40-hex commit). Run once"
                + " where the Hub is reachable (without HF_HUB_OFFLINE), or point --cache-dir (or HF_HUB_CACHE) at a cache"
                + " that has it.", assertThrows(LayerscopeException.class, () -> offline.model(REPO, "main")).getMessage());
        Files.delete(ref);

        client().snapshotOf(REPO, "main", RepoType.MODEL, List.of("config.json"));
        LayerscopeException partial = assertThrows(LayerscopeException.class, () -> offline.model(REPO, "main"));
        assertEquals("HF_HUB_OFFLINE=1 is set, and the cached snapshot " + repoDir().resolve("snapshots/" + COMMIT)
                + " of model tiny-org/tiny-llama (revision main) lacks model.safetensors (or model.safetensors.index.json"
                + " and its shards). Run once where the Hub is reachable (without HF_HUB_OFFLINE), or point --cache-dir"
                + " (or HF_HUB_CACHE) at a cache that has it.", partial.getMessage());
        assertTrue(hub.requests().stream().noneMatch(r -> r.path().contains("model.safetensors")));
    }

    @Test
    void anUnreachableHubSuggestsOfflineModeAndNamesTheCache() throws IOException {
        int closedPort = io.layerscope.fixtures.ClosedPort.reserve();
        Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + closedPort, "HF_TOKEN", TOKEN, "HOME",
                tmp.toString());
        HubClient client = new HubClient(HubSettings.fromEnvironment(env, tmp.resolve("cache")), progress);

        LayerscopeException e = assertThrows(LayerscopeException.class, () -> client.model(REPO, "main"));
        assertEquals("cannot reach the Hugging Face Hub at http://127.0.0.1:" + closedPort + " (connection refused) to"
                + " fetch model tiny-org/tiny-llama at revision main, and the cache at " + tmp.resolve("cache")
                + " does not have it complete. Check the network and any proxy (Java reads no HTTPS_PROXY: pass"
                + " --driver-java-options '-Dhttps.proxyHost=HOST -Dhttps.proxyPort=PORT' to submit.sh); on a machine"
                + " without network, fill the cache elsewhere, copy it to "
                + tmp.resolve("cache") + " and set HF_HUB_OFFLINE=1.", e.getMessage());
        assertFalse(e.getMessage().contains(TOKEN));

        // with the files cached, an unreachable Hub only costs a notice
        client().model(REPO, "main");
        ResolvedSnapshot cached = client.model(REPO, "main");
        assertEquals(COMMIT, cached.commitSha());
        assertEquals(List.of("could not check model tiny-org/tiny-llama on the Hub (connection refused); using the cached"
                + " snapshot " + repoDir().resolve("snapshots/" + COMMIT)), progress.notices);
    }

    @Test
    void aRenamedRepoIsFollowedOnTheSameSiteWithTheToken() throws IOException {
        hub.rename(RepoType.MODEL, "old-org/old-name", REPO);
        ResolvedSnapshot snapshot = client("HF_TOKEN", TOKEN).snapshotOf("old-org/old-name", "main", RepoType.MODEL,
                List.of("config.json", "model.safetensors"));
        assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.file("config.json")));
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.file("model.safetensors")));
        assertTrue(snapshot.dir().startsWith(tmp.resolve("cache/models--old-org--old-name")));
        List<FakeHub.Request> renamed = hub.requests("hub").stream()
                .filter(r -> r.path().startsWith("/tiny-org/tiny-llama/resolve/")).toList();
        assertEquals(List.of("HEAD", "HEAD", "GET"), renamed.stream().map(FakeHub.Request::method).toList());
        assertTrue(renamed.stream().allMatch(r -> ("Bearer " + TOKEN).equals(r.authorization())));
    }

    @Test
    void downloadsRunInParallelUpToTheBound() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < 6; i++) {
            files.put("part-" + i + ".safetensors", FakeHub.bytes(10_000 + i, 100 + i));
        }
        hub.commit(RepoType.MODEL, "tiny-org/many", COMMIT2, files);
        hub.cdnDelay(150);
        HubClient client = new HubClient(settings().withParallelDownloads(2), progress);
        ResolvedSnapshot snapshot = client.snapshotOf("tiny-org/many", "main", RepoType.MODEL, List.copyOf(files.keySet()));
        assertEquals(2, hub.cdnMaxInFlight());
        for (var f : files.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(snapshot.file(f.getKey())));
        }
    }

    @Test
    void aFullDiskIsRefusedBeforeDownloading() {
        HubClient client = new HubClient(settings(), progress, dir -> 100_000);
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> client.model(REPO, "main"));
        assertEquals("not enough disk space for model tiny-org/tiny-llama: the download needs 293 KiB but the disk of"
                + " the Hugging Face cache " + tmp.resolve("cache") + " has 97.7 KiB free. Free some space there, or"
                + " point --cache-dir (or HF_HUB_CACHE) at a disk with room.", e.getMessage());
        assertTrue(hub.requests("cdn").isEmpty());
    }

    @Test
    void announcedSizesThatWouldOverflowTheirSumAreRefusedAsTooLarge() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < 2; i++) {
            files.put("part-" + i + ".safetensors", FakeHub.bytes(1000 + i, 7 + i));
            hub.announce(files.get("part-" + i + ".safetensors"), 5_000_000_000_000_000_000L);
        }
        hub.commit(RepoType.MODEL, "tiny-org/huge", COMMIT2, files);
        HubClient client = new HubClient(settings(), progress, dir -> 100_000);
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> client.snapshotOf("tiny-org/huge", "main", RepoType.MODEL, List.copyOf(files.keySet())));
        assertEquals("not enough disk space for model tiny-org/huge: the download needs 8192 PiB but the disk of"
                + " the Hugging Face cache " + tmp.resolve("cache") + " has 97.7 KiB free. Free some space there, or"
                + " point --cache-dir (or HF_HUB_CACHE) at a disk with room.", e.getMessage());
        assertTrue(hub.requests("cdn").isEmpty());
    }

    /**
     * The fallback to the cache covers the question to the Hub (the listing), not the download after
     * it: a download that fails for now is said, not hidden behind an older cached commit.
     */
    @Test
    void aFailedDownloadAfterTheListingIsNotHiddenBehindTheCache() throws IOException {
        String repo = "tiny-org/filtered";
        hub.commit(RepoType.MODEL, repo, COMMIT, Map.of("config.json", CONFIG, "data.bin", BIN));
        assertEquals(COMMIT, client().snapshotOf(repo, "main", RepoType.MODEL, f -> f.endsWith(".bin")).commitSha());
        byte[] newer = FakeHub.bytes(5_000, 3);
        hub.commit(RepoType.MODEL, repo, COMMIT2, Map.of("config.json", CONFIG, "data.bin", newer));
        hub.resolveStatus("data.bin", 503, 100);   // the Hub's answer about the file, after its listing
        progress.notices.clear();
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> client().snapshotOf(repo, "main", RepoType.MODEL, f -> f.endsWith(".bin")));
        assertTrue(e.getMessage().contains("503"), e.getMessage());
        assertTrue(progress.notices.stream().noneMatch(n -> n.startsWith("could not check")), progress.notices.toString());
    }

    @Test
    void aFilterSelectsFilesFromTheListing() throws IOException {
        ResolvedSnapshot snapshot = client().snapshotOf(REPO, "main", RepoType.MODEL, f -> f.startsWith("tokenizer"));
        assertEquals(List.of("tokenizer.json", "tokenizer_config.json"), snapshot.files());
        assertArrayEquals(TOKENIZER_CONFIG, Files.readAllBytes(snapshot.file("tokenizer_config.json")));
        ResolvedSnapshot offline = client("HF_HUB_OFFLINE", "yes").snapshotOf(REPO, "main", RepoType.MODEL,
                f -> f.endsWith(".json"));
        assertEquals(List.of("tokenizer.json", "tokenizer_config.json"), offline.files());
    }

    @Test
    void theTokenAppearsInNoMessageAndNoConsoleOutput() throws IOException {
        java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
        ConsoleProgress bar = new ConsoleProgress(new java.io.PrintStream(console, true, StandardCharsets.UTF_8), false,
                System::nanoTime);
        HubClient client = new HubClient(settings("HF_TOKEN", TOKEN), bar);
        HubClient offline = new HubClient(settings("HF_TOKEN", TOKEN, "HF_HUB_OFFLINE", "1"), bar);
        hub.cutOnce(WEIGHTS);
        client.model(REPO, "main"); // a resumed download writes notices
        hub.commit(RepoType.MODEL, "tiny-org/corrupt", COMMIT2, Map.of("config.json", CONFIG, "model.safetensors",
                BIN));
        hub.corrupt(BIN);
        hub.commit(RepoType.MODEL, "tiny-org/gated", COMMIT2, Map.of("config.json", CONFIG));
        hub.gate(RepoType.MODEL, "tiny-org/gated", "hf_other");
        int closedPort = io.layerscope.fixtures.ClosedPort.reserve();
        HubClient unreachable = new HubClient(HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "http://127.0.0.1:"
                + closedPort, "HF_TOKEN", TOKEN, "HOME", tmp.toString()), tmp.resolve("cache")), bar);

        List<org.junit.jupiter.api.function.Executable> failures = List.of(
                () -> client.model("nobody/nothing", "main"),
                () -> client.model(REPO, "nope"),
                () -> client.snapshotOf(REPO, "main", RepoType.MODEL, List.of("absent.json")),
                () -> client.model("tiny-org/corrupt", "main"),
                () -> client.model("tiny-org/gated", "main"),
                () -> unreachable.model("tiny-org/other", "main"),
                () -> offline.model("tiny-org/other", "main"));
        for (var failure : failures) {
            Throwable e = assertThrows(LayerscopeException.class, failure);
            for (Throwable t = e; t != null; t = t.getCause()) {
                assertFalse(String.valueOf(t.getMessage()).contains(TOKEN), t.toString());
                assertFalse(t.toString().contains(TOKEN));
            }
        }
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("interrupted at"));
        assertFalse(console.toString(StandardCharsets.UTF_8).contains(TOKEN));
        assertFalse(client.settings().toString().contains(TOKEN));
    }

    private void assertNothingCached() {
        Path blobs = repoDir().resolve("blobs");
        if (Files.isDirectory(blobs)) {
            try (Stream<Path> s = Files.list(blobs)) {
                assertEquals(0, s.count());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
