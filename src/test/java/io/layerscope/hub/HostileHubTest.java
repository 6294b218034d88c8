package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hub that does not play fair ({@link FakeHub.Hostile}): an endless API answer, answers trickled at
 * a byte a second, bodies longer or shorter than announced. Each case ends within a bound of time
 * (deadlines of 2 s set through the environment, as a user would), with one message that says
 * what happened, and with nothing in the cache presented as complete: no blob, no snapshot link, no
 * ref for what did not arrive whole (an interrupted download keeps its {@code .incomplete} file,
 * which the next run resumes).
 */
class HostileHubTest {
    static final String REPO = HubClientTest.REPO;
    static final String COMMIT = HubClientTest.COMMIT;
    static final byte[] WEIGHTS = HubClientTest.WEIGHTS;
    static final long BOUND_NANOS = 30_000_000_000L;

    @TempDir
    Path tmp;
    FakeHub hub;
    RecordingProgress progress = new RecordingProgress();

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", HubClientTest.CONFIG);
        files.put("tokenizer.json", HubClientTest.TOKENIZER);
        files.put("model.safetensors", WEIGHTS);
        hub.commit(RepoType.MODEL, REPO, COMMIT, files);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    Map<String, String> env(String... more) {
        Map<String, String> map = new HashMap<>();
        map.put("HF_ENDPOINT", hub.endpoint());
        map.put("HOME", tmp.resolve("home").toString());
        map.put("HF_HOME", tmp.resolve("hf-home").toString()); // the default cache, searched too by the command line
        map.put("LAYERSCOPE_HUB_API_DEADLINE", "2");
        map.put("HF_HUB_DOWNLOAD_TIMEOUT", "2");
        for (int i = 0; i < more.length; i += 2) {
            map.put(more[i], more[i + 1]);
        }
        return map;
    }

    HubClient client() {
        return new HubClient(HubSettings.fromEnvironment(env(), tmp.resolve("cache")), progress);
    }

    Path repoDir() {
        return tmp.resolve("cache").resolve("models--tiny-org--tiny-llama");
    }

    Path weightsPart() {
        return repoDir().resolve("blobs").resolve(FakeHub.sha256(WEIGHTS) + ".incomplete");
    }

    String apiUrl() {
        return hub.endpoint() + "/api/models/" + REPO + "/revision/main";
    }

    /** Runs {@code call}, which must fail within the bound; returns the message. */
    static String failsInTime(org.junit.jupiter.api.function.Executable call) {
        long start = System.nanoTime();
        LayerscopeException e = assertThrows(LayerscopeException.class, call);
        long took = System.nanoTime() - start;
        assertTrue(took < BOUND_NANOS, "took " + took / 1e9 + " s");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    /**
     * No ref, no snapshot, no blob of the weights; complete blobs only of what did arrive whole (config,
     * tokenizer). {@code .incomplete} files may stay, as always: of the weights after retries, and of
     * the files downloading in parallel when the weights failed (they were cut short).
     */
    void nothingPresentedAsComplete() throws IOException {
        assertFalse(Files.exists(repoDir().resolve("refs/main")));
        assertFalse(Files.exists(repoDir().resolve("snapshots")));
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(FakeHub.sha256(WEIGHTS)), LinkOption.NOFOLLOW_LINKS));
        List<String> blobs = new ArrayList<>();
        if (Files.isDirectory(repoDir().resolve("blobs"))) {
            try (Stream<Path> s = Files.list(repoDir().resolve("blobs"))) {
                s.forEach(p -> blobs.add(p.getFileName().toString()));
            }
        }
        // what did arrive whole (config, tokenizer) is verified and kept for the next run
        blobs.removeIf(name -> name.endsWith(".incomplete"));
        blobs.removeAll(List.of(FakeHub.gitBlobSha1(HubClientTest.CONFIG), FakeHub.gitBlobSha1(HubClientTest.TOKENIZER)));
        assertEquals(List.of(), blobs);
    }

    @Test
    void anEndlessApiAnswerIsCutAtItsBound() throws IOException {
        hub.hostileApi(FakeHub.Hostile.ENDLESS);
        String message = failsInTime(() -> client().model(REPO, "main"));
        assertEquals("the server at " + hub.endpoint() + " does not answer like the Hugging Face Hub for model"
                + " tiny-org/tiny-llama: its answer to " + apiUrl() + " is longer than 8.00 MiB, far more than any"
                + " file list. Check HF_ENDPOINT and any proxy or firewall between here and the Hub.", message);
        assertFalse(Files.exists(repoDir()));
    }

    @Test
    void aTrickledApiAnswerMeetsItsDeadline() throws IOException {
        hub.hostileApi(FakeHub.Hostile.TRICKLE);
        long start = System.nanoTime();
        String message = failsInTime(() -> client().model(REPO, "main"));
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "a 2 s deadline took " + (System.nanoTime() - start) / 1e9);
        assertEquals("the Hugging Face Hub at " + hub.endpoint() + " did not finish its answer to " + apiUrl()
                + " within 2.0 s (LAYERSCOPE_HUB_API_DEADLINE) while fetching model tiny-org/tiny-llama at revision"
                + " main, and the cache at " + tmp.resolve("cache") + " does not have it complete. Check the network"
                + " and any proxy between here and the Hub, or raise LAYERSCOPE_HUB_API_DEADLINE (seconds) for a slow"
                + " link.", message);
        assertFalse(Files.exists(repoDir()));
    }

    @Test
    void aTrickledDownloadIsDroppedAsStalledAndKeptToResume() throws IOException {
        hub.hostileCdn(WEIGHTS, FakeHub.Hostile.TRICKLE);
        String message = failsInTime(() -> client().model(REPO, "main"));
        long kept = Files.size(weightsPart());
        assertTrue(kept > 0 && kept < 30, kept + " bytes");
        assertEquals("download of model.safetensors of model tiny-org/tiny-llama stopped at " + kept + " of "
                + WEIGHTS.length + " bytes after 5 attempts (less than 64.0 KiB in 2.0 s). Run again to resume from"
                + " there: the partial file " + weightsPart() + " is kept.", message);
        assertEquals(4, progress.notices.size(), progress.notices.toString());
        assertTrue(progress.notices.stream().allMatch(n -> n.contains("(less than 64.0 KiB in 2.0 s); resuming")),
                progress.notices.toString());
        nothingPresentedAsComplete();
    }

    @Test
    void aDownloadLongerThanAnnouncedIsRefusedAndNothingIsKept() throws IOException {
        for (FakeHub.Hostile longer : List.of(FakeHub.Hostile.LONGER, FakeHub.Hostile.LONGER_CHUNKED)) {
            hub.hostileCdn(WEIGHTS, longer);
            assertEquals("the server sent more than the " + WEIGHTS.length + " bytes the Hub announced for"
                    + " model.safetensors of model tiny-org/tiny-llama (from " + hub.cdnOrigin() + "/blobs/"
                    + FakeHub.sha256(WEIGHTS) + "); nothing was kept. Check any proxy between here and the Hub.",
                    failsInTime(() -> client().model(REPO, "main")), longer.toString());
            assertFalse(Files.exists(weightsPart()), longer.toString());
            nothingPresentedAsComplete();
        }
    }

    @Test
    void aRedirectToNoHttpAddressIsNotFollowed() throws IOException {
        String head = hub.endpoint() + "/tiny-org/tiny-llama/resolve/" + COMMIT + "/model.safetensors";
        for (String[] c : new String[][] {{"file:///etc/passwd", "file:///etc/passwd", "not an http or https address"},
                {"ftp://cdn.example/blob?sig=s3cr3t", "ftp://cdn.example/blob", "not an http or https address"},
                {"http://cdn.example/a b c?sig=s3cr3t", "http://cdn.example/a b c", "not a valid address"}}) {
            hub.lfsLocation(c[0]);
            String message = failsInTime(() -> client().model(REPO, "main"));
            assertEquals(head + " redirected to \"" + c[1] + "\", " + c[2] + "; check HF_ENDPOINT (" + hub.endpoint()
                    + ") and any proxy between here and it", message, c[0]);
            nothingPresentedAsComplete();
        }
    }

    @Test
    void aFileOfAnotherCommitThanTheOneAskedForIsRefused() throws IOException {
        String other = "2".repeat(40);
        hub.headCommit(other);
        assertEquals("the server at " + hub.endpoint() + " does not answer like the Hugging Face Hub for model"
                + " tiny-org/tiny-llama: its answer for config.json is of commit " + other + ", where commit " + COMMIT
                + " was asked for. Check HF_ENDPOINT and any proxy or firewall between here and the Hub.",
                failsInTime(() -> client().model(REPO, "main")));
        nothingPresentedAsComplete();
    }

    @Test
    void aDownloadServerThatNeverSendsAByteIsNamedNotTheDisk() throws IOException {
        hub.cdnStatus(WEIGHTS, 503, 100);
        assertEquals("download of model.safetensors of model tiny-org/tiny-llama stopped at 0 of " + WEIGHTS.length
                + " bytes after 5 attempts (HTTP 503). Nothing was kept; run again when the server answers.",
                failsInTime(() -> client().model(REPO, "main")));
        assertFalse(Files.exists(weightsPart()));
        nothingPresentedAsComplete();
    }

    @Test
    void aDownloadShorterThanAnnouncedIsResumedThenKeptIncomplete() throws IOException {
        hub.hostileCdn(WEIGHTS, FakeHub.Hostile.SHORTER);
        String message = failsInTime(() -> client().model(REPO, "main"));
        // each answer brings half of what is missing: 150000, 225000, ... 290625 after five
        assertEquals("download of model.safetensors of model tiny-org/tiny-llama stopped at 290625 of 300000 bytes"
                + " after 5 attempts (the connection closed after 290625 of 300000 bytes). Run again to resume from"
                + " there: the partial file " + weightsPart() + " is kept.", message);
        assertEquals(290_625, Files.size(weightsPart()));
        nothingPresentedAsComplete();
    }

    @Test
    void theCommandLineExitsWithStatus2AndOneParagraph() throws IOException {
        hub.hostileApi(FakeHub.Hostile.ENDLESS);
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        var cl = Main.commandLine(env());
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(out, true));
        long start = System.nanoTime();
        int status = cl.execute("list-layers", "--model", REPO, "--cache-dir", tmp.resolve("cache").toString());
        assertTrue(System.nanoTime() - start < BOUND_NANOS);
        assertEquals("error: the server at " + hub.endpoint() + " does not answer like the Hugging Face Hub for model"
                + " tiny-org/tiny-llama: its answer to " + apiUrl() + " is longer than 8.00 MiB, far more than any"
                + " file list. Check HF_ENDPOINT and any proxy or firewall between here and the Hub. It is not in "
                + tmp.resolve("hf-home/hub/models--tiny-org--tiny-llama") + " either.\n", err.toString().replace(System.lineSeparator(), "\n"));
        assertEquals(2, status);
        assertEquals("", out.toString());
        assertFalse(Files.exists(repoDir()));
    }
}
