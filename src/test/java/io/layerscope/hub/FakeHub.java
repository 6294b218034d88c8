package io.layerscope.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub on 127.0.0.1 for tests: the revision API, resolve URLs with the Hub's headers
 * (X-Repo-Commit, ETag, X-Linked-Etag, X-Linked-Size, X-Error-Code), LFS files redirected to a
 * second server on another port standing in for the CDN, gated repos, renamed repos, and faults
 * (a connection cut halfway, a stall, a corrupted body, a server that ignores Range), and hostile
 * bodies ({@link Hostile}) from the revision API or the CDN.
 */
final class FakeHub implements AutoCloseable {

    /** Bodies no honest server sends; each answers status 200 (206 for a range) with the real headers. */
    enum Hostile {
        /** Chunked, the real body and then filler without end, until the client hangs up. */
        ENDLESS,
        /** The real body with its Content-Length, one byte a second. */
        TRICKLE,
        /** The real body and 1000 bytes more, with a Content-Length that says so. */
        LONGER,
        /** The real body and 1000 bytes more, chunked (no Content-Length to warn the client). */
        LONGER_CHUNKED,
        /** The first half of the real body, with a Content-Length that says so; the answer ends cleanly. */
        SHORTER
    }

    /** One request as a server saw it. */
    record Request(String server, String method, String path, String authorization, String range) {
    }

    private static final class Repo {
        final RepoType type;
        final String id;
        final Map<String, String> refs = new LinkedHashMap<>();
        final Map<String, Map<String, byte[]>> commits = new LinkedHashMap<>();
        String token;
        String renamedTo;

        Repo(RepoType type, String id) {
            this.type = type;
            this.id = id;
        }
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobsBySha = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private static final long CUT_GRACE_MILLIS = 200;
    private final Set<String> cutOnce = ConcurrentHashMap.newKeySet();
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> stallMillis = new ConcurrentHashMap<>();
    private final Map<String, int[]> cdnStatus = new ConcurrentHashMap<>();
    private final Map<String, int[]> resolveStatus = new ConcurrentHashMap<>();
    private volatile String lfsLocation;
    private volatile String headCommit;
    private final Map<String, Long> announced = new ConcurrentHashMap<>();
    private final Map<String, Hostile> hostileCdn = new ConcurrentHashMap<>();
    private volatile Hostile hostileApi;
    private volatile boolean ignoreRange;
    private volatile long cdnDelayMillis;
    private final AtomicInteger cdnInFlight = new AtomicInteger();
    private final AtomicInteger cdnMaxInFlight = new AtomicInteger();

    private FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(threads);
        cdn.setExecutor(threads);
        hub.start();
        cdn.start();
    }

    static FakeHub start() throws IOException {
        return new FakeHub();
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    String cdnOrigin() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    /** Adds a commit of a repo and points {@code main} at it. LFS: *.safetensors, *.gz, *.bin, *.pth. */
    FakeHub commit(RepoType type, String id, String commit, Map<String, byte[]> files) {
        Repo repo = repos.computeIfAbsent(key(type, id), k -> new Repo(type, id));
        repo.commits.put(commit, new LinkedHashMap<>(files));
        repo.refs.put("main", commit);
        files.forEach((name, bytes) -> {
            if (isLfs(name)) {
                blobsBySha.put(sha256(bytes), bytes);
            }
        });
        return this;
    }

    FakeHub gate(RepoType type, String id, String token) {
        repos.get(key(type, id)).token = token;
        return this;
    }

    /** Requests for {@code oldId} get a relative redirect to {@code newId}, as the Hub does after a rename. */
    FakeHub rename(RepoType type, String oldId, String newId) {
        Repo old = new Repo(type, oldId);
        old.renamedTo = newId;
        repos.put(key(type, oldId), old);
        return this;
    }

    void cutOnce(byte[] content) {
        cutOnce.add(sha256(content));
    }

    void corrupt(byte[] content) {
        corrupt.add(sha256(content));
    }

    void stallOnce(byte[] content, long millis) {
        stallMillis.put(sha256(content), millis);
    }

    /** The CDN answers {@code status} to the next {@code times} requests for this content. */
    void cdnStatus(byte[] content, int status, int times) {
        cdnStatus.put(sha256(content), new int[] {status, times});
    }

    /** The next {@code times} answers to a resolve URL of {@code file} are HTTP {@code status}, with no body. */
    void resolveStatus(String file, int status, int times) {
        resolveStatus.put(file, new int[] {status, times});
    }

    /** Every answer of the revision API gets this body. */
    void hostileApi(Hostile body) {
        hostileApi = body;
    }

    /** Every CDN answer with this content gets this body. */
    void hostileCdn(byte[] content, Hostile body) {
        hostileCdn.put(sha256(content), body);
    }

    /** The commit every HEAD answer names (X-Repo-Commit), whatever was asked: a Hub that does not keep to it. */
    void headCommit(String commit) {
        headCommit = commit;
    }

    /** The size the Hub's HEAD announces for this LFS content (X-Linked-Size), whatever its length. */
    void announce(byte[] content, long size) {
        announced.put(sha256(content), size);
    }

    /** The Location the Hub's HEAD gives for every LFS file, in place of its CDN link (a hostile Hub's). */
    void lfsLocation(String location) {
        lfsLocation = location;
    }

    void ignoreRange() {
        ignoreRange = true;
    }

    void cdnDelay(long millis) {
        cdnDelayMillis = millis;
    }

    int cdnMaxInFlight() {
        return cdnMaxInFlight.get();
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    List<Request> requests(String server) {
        return requests.stream().filter(r -> r.server().equals(server)).toList();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        threads.shutdownNow();
    }

    static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".gz") || file.endsWith(".bin") || file.endsWith(".pth");
    }

    static String sha256(byte[] bytes) {
        return digest("SHA-256", bytes);
    }

    /** Git's blob id: sha1 of "blob <size>\0" and the bytes; the Hub's ETag of a file kept in git. */
    static String gitBlobSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return digest("SHA-1", all);
    }

    private static String digest(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(RepoType type, String id) {
        return type + ":" + id;
    }

    // --- the Hub ----------------------------------------------------------------------------------

    private static final Pattern API = Pattern.compile("/api/(models|datasets)/(.+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/(datasets/)?(.+?)/resolve/([^/]+)/(.+)");

    private void hub(HttpExchange ex) throws IOException {
        String rawPath = ex.getRequestURI().getRawPath();
        record(ex, "hub");
        try (ex) {
            Matcher api = API.matcher(rawPath);
            Matcher resolve = RESOLVE.matcher(rawPath);
            if (api.matches()) {
                RepoType type = api.group(1).equals("models") ? RepoType.MODEL : RepoType.DATASET;
                revisionApi(ex, type, api.group(2), decode(api.group(3)));
            } else if (resolve.matches()) {
                RepoType type = resolve.group(1) == null ? RepoType.MODEL : RepoType.DATASET;
                resolve(ex, type, resolve.group(2), decode(resolve.group(3)), decode(resolve.group(4)), rawPath);
            } else {
                send(ex, 404, new byte[0]);
            }
        }
    }

    private void revisionApi(HttpExchange ex, RepoType type, String id, String revision) throws IOException {
        Repo repo = repos.get(key(type, id));
        if (repo == null || repo.renamedTo != null) {
            error(ex, 401, "RepoNotFound", "Repository not found", null);
            return;
        }
        String commit = commitOf(repo, revision);
        if (commit == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision, null);
            return;
        }
        StringBuilder json = new StringBuilder("{\"id\":\"" + id + "\",\"sha\":\"" + commit + "\",\"siblings\":[");
        String sep = "";
        for (String file : repo.commits.get(commit).keySet()) {
            json.append(sep).append("{\"rfilename\":\"").append(file).append("\"}");
            sep = ",";
        }
        json.append("]}");
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (hostileApi != null) {
            hostile(ex, 200, json.toString().getBytes(StandardCharsets.UTF_8), hostileApi);
            return;
        }
        send(ex, 200, json.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void resolve(HttpExchange ex, RepoType type, String id, String revision, String file, String rawPath)
            throws IOException {
        int[] failing = resolveStatus.get(file);
        if (failing != null && failing[1]-- > 0) {
            send(ex, failing[0], new byte[0]);
            return;
        }
        Repo repo = repos.get(key(type, id));
        if (repo != null && repo.renamedTo != null) {
            ex.getResponseHeaders().set("Location", rawPath.replace("/" + id + "/", "/" + repo.renamedTo + "/"));
            send(ex, 307, new byte[0]);
            return;
        }
        if (repo == null) {
            error(ex, 401, "RepoNotFound", "Repository not found", null);
            return;
        }
        if (repo.token != null) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (!("Bearer " + repo.token).equals(auth)) {
                error(ex, auth == null ? 401 : 403, "GatedRepo",
                        "Access to model " + id + " is restricted. You must have access to it and be authenticated.",
                        null);
                return;
            }
        }
        String commit = commitOf(repo, revision);
        if (commit == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision, null);
            return;
        }
        byte[] content = repo.commits.get(commit).get(file);
        if (content == null) {
            error(ex, 404, "EntryNotFound", "Entry not found", commit);
            return;
        }
        var h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", headCommit != null ? headCommit : commit);
        if (isLfs(file)) {
            String sha = sha256(content);
            String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha + "\nsize "
                    + content.length + "\n";
            h.set("ETag", "\"" + gitBlobSha1(pointer.getBytes(StandardCharsets.US_ASCII)) + "\"");
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set("X-Linked-Size", Long.toString(announced.getOrDefault(sha, (long) content.length)));
            h.set("Location", lfsLocation != null ? lfsLocation
                    : cdnOrigin() + "/blobs/" + sha + "?X-Amz-Signature=s3cr3tsignature&Expires=1");
            send(ex, 302, new byte[0]);
        } else {
            h.set("ETag", "\"" + gitBlobSha1(content) + "\"");
            send(ex, 200, content);
        }
    }

    private static String commitOf(Repo repo, String revision) {
        if (repo.commits.containsKey(revision)) {
            return revision;
        }
        return repo.refs.get(revision);
    }

    private static void error(HttpExchange ex, int status, String code, String message, String commit)
            throws IOException {
        ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        if (commit != null) {
            ex.getResponseHeaders().set("X-Repo-Commit", commit);
        }
        send(ex, status, ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    // --- the CDN ----------------------------------------------------------------------------------

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private void cdn(HttpExchange ex) throws IOException {
        record(ex, "cdn");
        int now = cdnInFlight.incrementAndGet();
        cdnMaxInFlight.accumulateAndGet(now, Math::max);
        try (ex) {
            if (cdnDelayMillis > 0) {
                Thread.sleep(cdnDelayMillis);
            }
            String path = ex.getRequestURI().getPath();
            String sha = path.startsWith("/blobs/") ? path.substring("/blobs/".length()) : "";
            byte[] content = blobsBySha.get(sha);
            if (content == null) {
                send(ex, 404, new byte[0]);
                return;
            }
            int[] failure = cdnStatus.get(sha);
            if (failure != null && failure[1]-- > 0) {
                send(ex, failure[0], "<Error><Code>AccessDenied</Code></Error>".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (corrupt.contains(sha)) {
                content = content.clone();
                content[content.length / 2] ^= 0x5a;
            }
            int start = 0;
            String range = ex.getRequestHeaders().getFirst("Range");
            Matcher m = range == null ? null : RANGE.matcher(range);
            if (!ignoreRange && m != null && m.matches()) {
                start = Integer.parseInt(m.group(1));
                if (start >= content.length) {
                    ex.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                    send(ex, 416, new byte[0]);
                    return;
                }
                ex.getResponseHeaders().set("Content-Range",
                        "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
            }
            int length = content.length - start;
            if ("HEAD".equals(ex.getRequestMethod())) {
                send(ex, start > 0 ? 206 : 200, new byte[0]);
                return;
            }
            Hostile hostile = hostileCdn.get(sha);
            if (hostile != null) {
                hostile(ex, start > 0 ? 206 : 200, java.util.Arrays.copyOfRange(content, start, content.length), hostile);
                return;
            }
            ex.sendResponseHeaders(start > 0 ? 206 : 200, length);
            OutputStream body = ex.getResponseBody();
            Long stall = stallMillis.remove(sha);
            if (cutOnce.remove(sha) || stall != null) {
                body.write(content, start, length / 2);
                body.flush();
                // A stall keeps the connection silent; a cut first gives the client a moment to take in
                // what was sent, since bytes still in flight when the connection drops can be lost at
                // the client's end (its resume offset would then vary from run to run).
                Thread.sleep(stall != null ? stall : CUT_GRACE_MILLIS);
                return; // closing the exchange short of the announced length drops the connection
            }
            body.write(content, start, length);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            cdnInFlight.decrementAndGet();
        }
    }

    // --- hostile bodies -----------------------------------------------------------------------------

    private static void hostile(HttpExchange ex, int status, byte[] body, Hostile how) throws IOException {
        OutputStream out = ex.getResponseBody();
        try {
            switch (how) {
                case ENDLESS -> {
                    ex.sendResponseHeaders(status, 0);
                    out.write(body, 0, body.length - 1); // a JSON array or object still open
                    byte[] filler = ",{\"rfilename\":\"again-and-again.json\"}".repeat(1000)
                            .getBytes(StandardCharsets.US_ASCII);
                    while (!Thread.currentThread().isInterrupted()) {
                        out.write(filler);
                    }
                }
                case TRICKLE -> {
                    ex.sendResponseHeaders(status, body.length);
                    for (byte b : body) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(1000);
                    }
                }
                case LONGER -> {
                    ex.sendResponseHeaders(status, body.length + 1000);
                    out.write(body);
                    out.write(new byte[1000]);
                }
                case LONGER_CHUNKED -> {
                    ex.sendResponseHeaders(status, 0);
                    out.write(body);
                    out.write(new byte[1000]);
                }
                case SHORTER -> {
                    ex.sendResponseHeaders(status, body.length / 2);
                    out.write(body, 0, body.length / 2);
                }
                default -> throw new IllegalStateException(how.toString());
            }
        } catch (IOException hungUp) {
            // the client closed the connection: what a client that protects itself does
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- plumbing ---------------------------------------------------------------------------------

    private void record(HttpExchange ex, String server) {
        requests.add(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath()
                + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if ("HEAD".equals(ex.getRequestMethod())) {
            if (status == 200 && body.length > 0) {
                ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            }
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        ex.getResponseBody().write(body);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Deterministic bytes standing in for a file (a checkpoint shard, a tokenizer). */
    static byte[] bytes(int length, int seed) {
        byte[] out = new byte[length];
        long x = 0x9E3779B97F4A7C15L * (seed + 1);
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            out[i] = (byte) x;
        }
        return out;
    }

    static List<String> paths(List<Request> requests) {
        List<String> out = new ArrayList<>();
        requests.forEach(r -> out.add(r.method() + " " + r.path()));
        return out;
    }
}
