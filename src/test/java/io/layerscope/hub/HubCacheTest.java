package io.layerscope.hub;

import io.layerscope.Sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.ReferencePython;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache laid out by CPython exactly as huggingface_hub lays it out is found without any request. */
class HubCacheTest {

    static final String MODEL_COMMIT = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    static final String C4_COMMIT = "607bd4c8450a42878aa9ddc051a65a055450ef87";

    /**
     * What hf_hub_download leaves behind: blobs named by etag (sha256 for LFS files, git's sha1
     * otherwise), snapshot entries as relative symlinks made with os.path.relpath, refs/main holding
     * the commit without a newline, .no_exist markers for files known to be absent.
     */
    static final String LAY_OUT = String.join("\n",
            "import gzip, hashlib, json, os, sys",
            "cache = sys.argv[1]",
            "def put(folder, commit, filename, content, lfs):",
            "    if lfs:",
            "        etag = hashlib.sha256(content).hexdigest()",
            "    else:",
            "        etag = hashlib.sha1(b'blob %d\\0' % len(content) + content).hexdigest()",
            "    blob = os.path.join(cache, folder, 'blobs', etag)",
            "    os.makedirs(os.path.dirname(blob), exist_ok=True)",
            "    open(blob, 'wb').write(content)",
            "    pointer = os.path.join(cache, folder, 'snapshots', commit, *filename.split('/'))",
            "    os.makedirs(os.path.dirname(pointer), exist_ok=True)",
            "    os.symlink(os.path.relpath(blob, start=os.path.dirname(pointer)), pointer)",
            "    print(filename, hashlib.sha256(content).hexdigest(), os.readlink(pointer))",
            "def ref(folder, revision, commit):",
            "    os.makedirs(os.path.join(cache, folder, 'refs'), exist_ok=True)",
            "    open(os.path.join(cache, folder, 'refs', revision), 'w').write(commit)",
            "m, c = 'models--tiny-org--tiny-llama', sys.argv[2]",
            "put(m, c, 'config.json', json.dumps({'model_type': 'llama', 'hidden_size': 8}).encode(), False)",
            "put(m, c, 'tokenizer.json', b'{\"model\": {\"type\": \"BPE\"}}', False)",
            "put(m, c, 'model.safetensors', bytes(range(256)) * 64, True)",
            "put(m, c, 'pytorch_model.bin', bytes(100), True)",
            "ref(m, 'main', c)",
            "os.makedirs(os.path.join(cache, m, '.no_exist', c), exist_ok=True)",
            "open(os.path.join(cache, m, '.no_exist', c, 'generation_config.json'), 'w').close()",
            "d, dc = 'datasets--allenai--c4', sys.argv[3]",
            "lines = ''.join(json.dumps({'text': 'document %d' % i, 'timestamp': '2019-04-25T12:57:54Z',"
                    + " 'url': 'https://example.com/%d' % i}) + '\\n' for i in range(3))",
            "put(d, dc, 'en/c4-train.00000-of-01024.json.gz', gzip.compress(lines.encode(), mtime=0), True)",
            "ref(d, 'main', dc)");

    @TempDir
    static Path tmp;
    static Path cacheRoot;
    static Map<String, String> pythonSha256;
    static Map<String, String> pythonLinks;

    @BeforeAll
    static void layOutLikePython() throws Exception {
        cacheRoot = tmp.resolve("hf-cache");
        String out = ReferencePython.run(LAY_OUT, cacheRoot.toString(), MODEL_COMMIT, C4_COMMIT);
        pythonSha256 = new java.util.HashMap<>();
        pythonLinks = new java.util.HashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.split(" ");
            pythonSha256.put(f[0], f[1]);
            pythonLinks.put(f[0], f[2]);
        }
    }

    @Test
    void looksUpRefsSnapshotsAndMissingMarkers() {
        HubCache cache = new HubCache(cacheRoot);
        HubRepo repo = new HubRepo(RepoType.MODEL, "tiny-org/tiny-llama");
        assertEquals(Optional.of(MODEL_COMMIT), cache.commitOf(repo, "main"));
        assertEquals(Optional.empty(), cache.commitOf(repo, "v2"));
        assertEquals(Optional.of(MODEL_COMMIT), cache.commitOf(repo, MODEL_COMMIT));
        assertEquals(Optional.of(cacheRoot.resolve("models--tiny-org--tiny-llama/snapshots/" + MODEL_COMMIT
                + "/config.json")), cache.cachedFile(repo, "main", "config.json"));
        assertEquals(Optional.empty(), cache.cachedFile(repo, "main", "tokenizer_config.json"));
        assertTrue(cache.isKnownMissing(repo, "main", "generation_config.json"));
        assertFalse(cache.isKnownMissing(repo, "main", "tokenizer_config.json"));
        assertEquals(List.of("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"),
                cache.snapshotFiles(repo, MODEL_COMMIT));
        // blob named by sha256 (LFS) and blob named by git sha1, whose sha256 is computed
        Path snapshot = cache.snapshotDir(repo, MODEL_COMMIT);
        assertEquals(pythonSha256.get("model.safetensors"), cache.sha256Of(snapshot.resolve("model.safetensors")));
        assertEquals(pythonSha256.get("config.json"), cache.sha256Of(snapshot.resolve("config.json")));
        assertEquals("../../../blobs/" + pythonSha256.get("en/c4-train.00000-of-01024.json.gz"),
                pythonLinks.get("en/c4-train.00000-of-01024.json.gz"));
    }

    @Test
    void aPythonFilledCacheIsUsedWithoutAnyRequest() throws IOException {
        try (FakeHub hub = FakeHub.start()) { // knows no repo: any request would show in its log
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_OFFLINE", "1",
                    "HF_HUB_CACHE", cacheRoot.toString(), "HOME", tmp.toString());
            HubClient client = new HubClient(HubSettings.fromEnvironment(env, null), ProgressListener.SILENT);

            ResolvedSnapshot model = client.model("tiny-org/tiny-llama", "main");
            assertEquals(MODEL_COMMIT, model.commitSha());
            assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json"), model.files());
            assertEquals(Map.of("config.json", pythonSha256.get("config.json"), "tokenizer.json",
                    pythonSha256.get("tokenizer.json"), "model.safetensors", pythonSha256.get("model.safetensors")),
                    model.sha256ByFile());
            byte[] expected = new byte[256 * 64];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (byte) i;
            }
            assertArrayEquals(expected, Files.readAllBytes(model.file("model.safetensors")));

            List<Path> shards = new C4Shards(client).paths("c4");
            assertEquals(List.of(cacheRoot.resolve("datasets--allenai--c4/snapshots/" + C4_COMMIT
                    + "/en/c4-train.00000-of-01024.json.gz")), shards);
            try (BufferedReader r = new BufferedReader(new InputStreamReader(
                    new GZIPInputStream(Files.newInputStream(shards.get(0))), StandardCharsets.UTF_8))) {
                assertEquals("{\"text\": \"document 0\", \"timestamp\": \"2019-04-25T12:57:54Z\","
                        + " \"url\": \"https://example.com/0\"}", r.readLine());
            }
            assertEquals(List.of(), hub.requests());
        }
    }

    @Test
    void onlineACachedCommitCostsOneRequest() throws IOException {
        try (FakeHub hub = FakeHub.start()) {
            hub.commit(RepoType.MODEL, "tiny-org/tiny-llama", MODEL_COMMIT, Map.of("config.json", new byte[1],
                    "tokenizer.json", new byte[1], "model.safetensors", new byte[1]));
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HOME", tmp.toString());
            HubClient client = new HubClient(HubSettings.fromEnvironment(env, cacheRoot), ProgressListener.SILENT);
            ResolvedSnapshot model = client.model("tiny-org/tiny-llama", "main");
            assertEquals(pythonSha256.get("model.safetensors"), model.sha256ByFile().get("model.safetensors"));
            assertEquals(List.of("GET /api/models/tiny-org/tiny-llama/revision/main"), FakeHub.paths(hub.requests()));
        }
    }

    @Test
    void aFullDiskIsNamed() {
        HubCache cache = new HubCache(cacheRoot);
        Path blob = cacheRoot.resolve("models--x--y/blobs/abc.incomplete");
        assertEquals("disk full while writing " + blob + " in the Hugging Face cache " + cacheRoot + ": free some"
                + " space there, or point --cache-dir (or HF_HUB_CACHE) at a disk with room; a partial download is kept"
                + " as <etag>.incomplete and resumed next time",
                cache.writeFailure(blob, new IOException("No space left on device")).getMessage());
        assertEquals("cannot write " + blob + " in the Hugging Face cache " + cacheRoot + " (Permission denied): check"
                + " its permissions, or choose another cache with --cache-dir (or HF_HUB_CACHE)",
                cache.writeFailure(blob, new java.nio.file.AccessDeniedException("Permission denied")).getMessage());
    }

    @Test
    void refusesNamesThatWouldLeaveTheCache() {
        HubCache cache = new HubCache(cacheRoot);
        HubRepo repo = new HubRepo(RepoType.MODEL, "tiny-org/tiny-llama");
        LayerscopeException file = assertThrows(LayerscopeException.class,
                () -> cache.cachedFile(repo, MODEL_COMMIT, "../../../../etc/passwd"));
        assertEquals("\"../../../../etc/passwd\" is not a usable file name in the Hugging Face cache: it must be a"
                + " relative path inside the repository", file.getMessage());
        LayerscopeException etag = assertThrows(LayerscopeException.class, () -> cache.blob(repo, "../x"));
        assertEquals("the Hub sent the ETag \"../x\", which cannot name a cache file; check HF_ENDPOINT points at the"
                + " Hugging Face Hub or a faithful mirror", etag.getMessage());
    }
}
