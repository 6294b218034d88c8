package io.layerscope.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP side of the Hub: the revision API, HEAD on resolve URLs and ranged GETs of file bytes.
 *
 * <p>Redirects are followed here, not by {@link HttpClient}, so that the Authorization header is
 * only ever sent to the endpoint's own origin (scheme, host and port): the Hub sends large files
 * from a CDN host through a signed redirect, and the token must not travel there. HEAD follows
 * only relative redirects (a renamed repo), as huggingface_hub does, and reads the CDN location
 * from the first redirect.
 *
 * <p>No answer can hold a run forever or fill the heap: a metadata request is complete within
 * {@link HubSettings#apiDeadline()} (headers within {@link HubSettings#metadataTimeout()}), and the
 * revision API's answer is read up to {@link HubSettings#MAX_API_BYTES}; a download's body is
 * bounded and watched by {@link BlobDownload}.
 */
final class HubHttp {

    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "layerscope/0.1; java/" + Runtime.version().feature();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NO_DEADLINE = Long.MIN_VALUE;

    private final HubSettings settings;
    private final HubErrors errors;
    private final HttpClient client;
    private final ScheduledExecutorService watchdog;

    HubHttp(HubSettings settings, ScheduledExecutorService watchdog) {
        this.settings = settings;
        this.watchdog = watchdog;
        this.errors = new HubErrors(settings);
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(settings.metadataTimeout())
                .proxy(ProxySelector.getDefault())
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** The commit sha and file list of {@code revision}. */
    RepoListing listing(HubRepo repo, String revision) throws IOException {
        URI uri = endpointUri(repo.revisionApiPath(revision));
        long deadline = System.nanoTime() + settings.apiDeadline().toNanos();
        HttpResponse<InputStream> response = followAll(uri, "GET", 0, deadline, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close(); // the headers say what went wrong; the body may be anything
            throw errors.forStatus(response.statusCode(), response.headers(), response.uri(), repo, revision, null);
        }
        byte[] body = readBounded(response, repo, deadline);
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw notTheHub(repo, "its answer to " + Redaction.url(uri) + " is not JSON");
        }
        String commit = root.path("sha").asText("");
        if (!HfCache.isCommit(commit) || !root.path("siblings").isArray()) {
            throw notTheHub(repo, "its answer to " + Redaction.url(uri) + " has no commit sha and file list");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode sibling : root.get("siblings")) {
            String name = sibling.path("rfilename").asText("");
            if (!name.isEmpty()) {
                files.add(name);
            }
        }
        return new RepoListing(commit, List.copyOf(files));
    }

    /** HEAD on the resolve URL of {@code file} at {@code revision}. */
    FileMetadata head(HubRepo repo, String revision, String file) throws IOException {
        URI uri = endpointUri(repo.resolvePath(revision, file));
        long deadline = System.nanoTime() + settings.apiDeadline().toNanos();
        HttpResponse<Void> response = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            response = send(uri, "HEAD", 0, metadataTimeout(uri, deadline), HttpResponse.BodyHandlers.discarding());
            Optional<String> location = response.headers().firstValue("Location");
            if (isRedirect(response.statusCode()) && location.isPresent() && isRelative(location.get())) {
                uri = redirect(uri, location.get()); // a renamed repo: same site, keep the token
                continue;
            }
            break;
        }
        int status = response.statusCode();
        if (status >= 400) {
            throw errors.forStatus(status, response.headers(), uri, repo, revision, file);
        }
        HttpHeaders h = response.headers();
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        String etag = FileMetadata.normalizeEtag(h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null));
        Optional<String> size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length"));
        if (commit == null || !HfCache.isCommit(commit)) {
            throw notTheHub(repo, "it sent no commit sha (X-Repo-Commit) for " + file);
        }
        if (HfCache.isCommit(revision) && !commit.equalsIgnoreCase(revision)) {
            // the files would land in another snapshot than the one the run reads
            throw notTheHub(repo, "its answer for " + file + " is of commit " + commit + ", where commit " + revision
                    + " was asked for");
        }
        if (etag == null || etag.isEmpty()) {
            throw notTheHub(repo, "it sent no ETag for " + file);
        }
        long bytes;
        try {
            bytes = Long.parseLong(size.orElse("").strip());
        } catch (NumberFormatException e) {
            bytes = -1;
        }
        if (bytes < 0) {
            throw notTheHub(repo, "it sent no size (X-Linked-Size or Content-Length) for " + file);
        }
        URI answered = uri;
        URI location = h.firstValue("Location").map(l -> redirect(answered, l)).orElse(uri);
        return new FileMetadata(file, commit, etag, bytes, location);
    }

    /**
     * GET of {@code location} from byte {@code offset} on. Returns the open response when the
     * status is 200, 206 or 416 (the caller checks which); throws on any other.
     */
    HttpResponse<InputStream> download(URI location, long offset, HubRepo repo, String revision, String file)
            throws IOException {
        HttpResponse<InputStream> response = followAll(location, "GET", offset, NO_DEADLINE,
                HttpResponse.BodyHandlers.ofInputStream());
        int status = response.statusCode();
        if (status == 200 || status == 206 || status == 416) {
            return response;
        }
        response.body().close();
        throw errors.forStatus(status, response.headers(), response.uri(), repo, revision, file);
    }

    /**
     * The request and its redirects. With a {@code deadline} (System.nanoTime), each request waits for
     * its headers at most the metadata timeout and never past the deadline; without one
     * ({@link #NO_DEADLINE}: a download) at most the download timeout.
     */
    private <T> HttpResponse<T> followAll(URI start, String method, long offset, long deadline,
            HttpResponse.BodyHandler<T> body) throws IOException {
        URI uri = start;
        for (int hop = 0; hop < MAX_REDIRECTS; hop++) {
            Duration timeout = deadline == NO_DEADLINE ? settings.downloadTimeout() : metadataTimeout(uri, deadline);
            HttpResponse<T> response = send(uri, method, offset, timeout, body);
            Optional<String> location = response.headers().firstValue("Location");
            if (!isRedirect(response.statusCode()) || location.isEmpty()) {
                return response;
            }
            if (response.body() instanceof InputStream in) {
                in.close();
            }
            uri = redirect(uri, location.get());
        }
        throw new LayerscopeException("more than " + MAX_REDIRECTS + " redirects from " + Redaction.url(start)
                + "; check HF_ENDPOINT (" + settings.endpointForMessages() + ") and any proxy between here and it");
    }

    private <T> HttpResponse<T> send(URI uri, String method, long offset, Duration timeout,
            HttpResponse.BodyHandler<T> body) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(timeout)
                .header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity"); // the real size, no compression
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
        }
        Optional<String> token = settings.token();
        if (token.isPresent() && sameOrigin(uri, settings.endpoint())) {
            if (!token.get().chars().allMatch(c -> c > ' ' && c < 0x7f)) {
                // HttpRequest would refuse it with a message that quotes the header, token and all
                throw new LayerscopeException("the token from " + settings.tokenSource() + " cannot be sent to the Hub:"
                        + " it holds a space, a control character or a non-ASCII character. Set it again from"
                        + " " + settings.endpointForMessages() + "/settings/tokens (a token is hf_ and letters only).");
            }
            request.header("Authorization", "Bearer " + token.get());
        }
        try {
            return client.send(request.build(), body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LayerscopeException("interrupted while talking to " + Redaction.url(uri), e);
        } catch (IllegalArgumentException e) {
            String why = token.map(t -> String.valueOf(e.getMessage()).replace(t, "<token>")).orElse(e.getMessage());
            throw new LayerscopeException("cannot request " + Redaction.url(uri) + ": "
                    + Redaction.userInfo(why));
        }
    }

    /**
     * Where a Location header sent from {@code from} points: an http or https address (a server that
     * answers with a malformed one, or with file:, ftp: or the like, is not followed).
     */
    private URI redirect(URI from, String location) {
        String why;
        try {
            URI to = from.resolve(location.strip());
            if ("http".equalsIgnoreCase(to.getScheme()) || "https".equalsIgnoreCase(to.getScheme())) {
                return to;
            }
            why = "not an http or https address";
        } catch (IllegalArgumentException e) {
            why = "not a valid address";
        }
        // a signed link's query is a credential: never shown
        throw new LayerscopeException(Redaction.url(from) + " redirected to \"" + Redaction.userInfo(location.split("\\?", 2)[0])
                + "\", " + why + "; check HF_ENDPOINT (" + settings.endpointForMessages() + ") and any proxy between"
                + " here and it");
    }

    /** The header timeout of a metadata request: the metadata timeout, but never past {@code deadline}. */
    private Duration metadataTimeout(URI uri, long deadline) throws DeadlineExceeded {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new DeadlineExceeded(uri, settings.apiDeadline());
        }
        return Duration.ofNanos(Math.min(left, settings.metadataTimeout().toNanos()));
    }

    /**
     * The body of a metadata answer: at most {@link HubSettings#MAX_API_BYTES}, complete by
     * {@code deadline}. The stream is closed at the deadline by the watchdog, which ends a read that
     * waits for a trickle.
     */
    private byte[] readBounded(HttpResponse<InputStream> response, HubRepo repo, long deadline) throws IOException {
        URI uri = response.uri();
        InputStream in = response.body();
        long announced = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (announced > HubSettings.MAX_API_BYTES) {
            in.close();
            throw tooLong(repo, uri);
        }
        AtomicBoolean late = new AtomicBoolean();
        ScheduledFuture<?> alarm = watchdog.schedule(() -> {
            late.set(true);
            closeQuietly(in);
        }, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (in) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                body.write(buffer, 0, n);
                if (body.size() > HubSettings.MAX_API_BYTES) {
                    throw tooLong(repo, uri);
                }
                if (late.get()) {
                    throw new DeadlineExceeded(uri, settings.apiDeadline());
                }
            }
        } catch (IOException e) {
            if (late.get()) {
                throw new DeadlineExceeded(uri, settings.apiDeadline());
            }
            throw e;
        } finally {
            alarm.cancel(false);
        }
        return body.toByteArray();
    }

    private LayerscopeException tooLong(HubRepo repo, URI uri) {
        return notTheHub(repo, "its answer to " + Redaction.url(uri) + " is longer than "
                + ConsoleProgress.bytes(HubSettings.MAX_API_BYTES) + ", far more than any file list");
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the reader sees the closed stream either way
        }
    }

    /** A metadata answer was not complete by its deadline: the server trickles, or the network is that slow. */
    static final class DeadlineExceeded extends IOException {
        private static final long serialVersionUID = 1L;
        private final String url;
        private final Duration deadline;

        DeadlineExceeded(URI uri, Duration deadline) {
            super("no complete answer within " + seconds(deadline));
            this.url = Redaction.url(uri);
            this.deadline = deadline;
        }

        /** The request's URL without query or user info. */
        String url() {
            return url;
        }

        String deadline() {
            return seconds(deadline);
        }

        static String seconds(Duration d) {
            return d.toMillis() / 1000.0 + " s";
        }
    }

    /** Scheme, host and port equal: only then may the token be sent. */
    static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(lower(a.getScheme()), lower(b.getScheme()))
                && Objects.equals(lower(a.getHost()), lower(b.getHost()))
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(java.util.Locale.ROOT);
    }

    private static boolean isRelative(String location) {
        try {
            return URI.create(location).getHost() == null;
        } catch (IllegalArgumentException e) {
            return false; // not a URL we can follow: read the headers of this answer
        }
    }

    private static boolean isRedirect(int status) {
        return status >= 300 && status <= 399;
    }

    private URI endpointUri(String path) {
        return URI.create(settings.endpoint().toString() + path); // keeps a mirror's path prefix
    }

    private LayerscopeException notTheHub(HubRepo repo, String what) {
        return new LayerscopeException("the server at " + settings.endpointForMessages() + " does not answer like the Hugging Face"
                + " Hub for " + repo.describe() + ": " + what + ". Check HF_ENDPOINT and any proxy or firewall between"
                + " here and the Hub.");
    }
}
