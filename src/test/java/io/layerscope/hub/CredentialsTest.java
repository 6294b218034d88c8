package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * No credential is printed, from any source: a user name and password written into HF_ENDPOINT
 * ({@code http://user:pass@host}) appear as {@code ***} in every message, progress line and (with
 * --verbose) stack trace; a token that cannot be sent is not quoted either.
 */
class CredentialsTest {
    static final String PASSWORD = "s3cretPassw0rd";
    static final String USER = "hubuser";
    static final String TOKEN = HubClientTest.TOKEN;
    static final String REPO = HubClientTest.REPO;

    @TempDir
    Path tmp;
    FakeHub hub;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();
    final ConsoleProgress bar = new ConsoleProgress(new PrintStream(console, true, StandardCharsets.UTF_8), false,
            System::nanoTime);

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", HubClientTest.CONFIG);
        files.put("model.safetensors", HubClientTest.WEIGHTS);
        hub.commit(RepoType.MODEL, REPO, HubClientTest.COMMIT, files);
        hub.commit(RepoType.MODEL, "tiny-org/gated", HubClientTest.COMMIT2, Map.of("config.json", HubClientTest.CONFIG));
        hub.gate(RepoType.MODEL, "tiny-org/gated", "hf_other");
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    /** The fake Hub's endpoint with user:password@ in it. */
    String secretEndpoint() {
        return hub.endpoint().replace("http://", "http://" + USER + ":" + PASSWORD + "@");
    }

    /** What messages show for it. */
    String shownEndpoint() {
        return hub.endpoint().replace("http://", "http://***@");
    }

    Map<String, String> env(String endpoint, String... more) {
        Map<String, String> map = new HashMap<>();
        map.put("HF_ENDPOINT", endpoint);
        map.put("HOME", tmp.resolve("home").toString());
        map.put("HF_HOME", tmp.resolve("hf-home").toString());
        map.put("LAYERSCOPE_HUB_API_DEADLINE", "2");
        for (int i = 0; i < more.length; i += 2) {
            map.put(more[i], more[i + 1]);
        }
        return map;
    }

    HubClient client(String endpoint, String... more) {
        return new HubClient(HubSettings.fromEnvironment(env(endpoint, more), tmp.resolve("cache")), bar);
    }

    static void assertNoSecret(String text) {
        assertFalse(text.contains(PASSWORD), text);
        assertFalse(text.contains(USER), text);
        assertFalse(text.contains(TOKEN), text);
    }

    /** Fails with a message free of credentials, in itself and in every cause; returns it. */
    static String failsWithoutSecret(Executable call) {
        LayerscopeException e = assertThrows(LayerscopeException.class, call);
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertNoSecret(t.toString());
        }
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        assertNoSecret(trace.toString());
        return e.getMessage();
    }

    @Test
    void aPasswordInHfEndpointAppearsInNoMessage() throws IOException {
        HubClient client = client(secretEndpoint(), "HF_TOKEN", TOKEN);
        HubClient anonymous = client(secretEndpoint());
        assertEquals("model nobody/nothing was not found at " + shownEndpoint() + " (HTTP 401): check the repo id (e.g."
                + " meta-llama/Llama-3.2-1B), or, if it is private, set HF_TOKEN to a token with access to it (the token"
                + " from HF_TOKEN was sent).", failsWithoutSecret(() -> client.model("nobody/nothing", "main")));
        assertEquals("model tiny-org/gated is gated: the Hub refused config.json (HTTP 401) because no token was sent."
                + " Accept the licence at " + shownEndpoint() + "/tiny-org/gated while logged in, create a read token at "
                + shownEndpoint() + "/settings/tokens and set HF_TOKEN to it (or run `hf auth login`, which writes the"
                + " token file $HF_HOME/token).", failsWithoutSecret(() -> anonymous.snapshotOf("tiny-org/gated", "main",
                        RepoType.MODEL, List.of("config.json"))));

        hub.hostileApi(FakeHub.Hostile.ENDLESS);
        assertEquals("the server at " + shownEndpoint() + " does not answer like the Hugging Face Hub for model"
                + " tiny-org/tiny-llama: its answer to " + shownEndpoint() + "/api/models/tiny-org/tiny-llama/revision/main"
                + " is longer than 8.00 MiB, far more than any file list. Check HF_ENDPOINT and any proxy or firewall"
                + " between here and the Hub.", failsWithoutSecret(() -> client.model(REPO, "main")));
        hub.hostileApi(FakeHub.Hostile.TRICKLE);
        assertTrue(failsWithoutSecret(() -> client.model(REPO, "main")).startsWith("the Hugging Face Hub at "
                + shownEndpoint() + " did not finish its answer to " + shownEndpoint() + "/api/models/"));

        int closedPort = io.layerscope.fixtures.ClosedPort.reserve();
        String closed = "http://" + USER + ":" + PASSWORD + "@127.0.0.1:" + closedPort;
        assertTrue(failsWithoutSecret(() -> client(closed, "HF_TOKEN", TOKEN).model(REPO, "main"))
                .startsWith("cannot reach the Hugging Face Hub at http://***@127.0.0.1:" + closedPort + " (connection"
                        + " refused)"));
        assertEquals("HF_ENDPOINT=ftp://***@mirror.example is not an http(s) URL; set it to the Hub or a mirror, e.g."
                + " https://huggingface.co, or unset it", failsWithoutSecret(() -> client("ftp://" + USER + ":" + PASSWORD
                        + "@mirror.example")));
        assertEquals("HubSettings[endpoint=" + shownEndpoint() + ", cacheDir=" + tmp.resolve("cache")
                + " (--cache-dir), token=set, from HF_TOKEN, offline=false]", client.settings().toString());
        assertNoSecret(console.toString(StandardCharsets.UTF_8));
    }

    @Test
    void progressLinesShowNoPassword() {
        hub.cutOnce(HubClientTest.WEIGHTS);
        client(secretEndpoint(), "HF_TOKEN", TOKEN).model(REPO, "main");
        bar.notice("could not check model x on the Hub (" + secretEndpoint() + "/api refused); using the cached snapshot");
        String printed = console.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("interrupted at"), printed);
        assertTrue(printed.contains("(" + shownEndpoint() + "/api refused)"), printed);
        assertNoSecret(printed);
    }

    @Test
    void aTokenThatCannotBeSentIsNotQuoted() {
        String bad = TOKEN + "\u0001tail";
        assertEquals("the token from HF_TOKEN cannot be sent to the Hub: it holds a space, a control character or a"
                + " non-ASCII character. Set it again from " + shownEndpoint() + "/settings/tokens (a token is hf_ and"
                + " letters only).", failsWithoutSecret(() -> client(secretEndpoint(), "HF_TOKEN", bad).model(REPO,
                        "main")));
    }

    @Test
    void theCommandLinePrintsNoPasswordEvenWithStackTraces() {
        hub.hostileApi(FakeHub.Hostile.ENDLESS);
        StringWriter err = new StringWriter();
        var cl = Main.commandLine(env(secretEndpoint(), "HF_TOKEN", TOKEN));
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        int status = cl.execute("list-layers", "--verbose", "--model", REPO, "--cache-dir", tmp.resolve("cache").toString());
        assertEquals(2, status);
        String printed = err.toString();
        assertTrue(printed.startsWith("error: the server at " + shownEndpoint() + " does not answer"), printed);
        assertTrue(printed.contains("\tat io.layerscope.hub.HubHttp"), printed); // the trace was printed, redacted
        assertNoSecret(printed);
    }
}
