package io.layerscope.hub;

import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the Hub is, where the cache is, which token to send and whether the network may be used:
 * read once from the environment variables the Python client reads, so both tools agree.
 *
 * <p>Cache root ({@link HfCache#cacheDir}), first that applies:
 * <ol>
 *   <li>the {@code --cache-dir} option, if the user gave one (pass {@code null} when not);</li>
 *   <li>{@code HF_HUB_CACHE} (or its older name {@code HUGGINGFACE_HUB_CACHE});</li>
 *   <li>{@code HF_HOME}{@code /hub}, if {@code HF_HOME} is set;</li>
 *   <li>{@code llm_weights} in the current directory, the default of the Python pruning tools.</li>
 * </ol>
 * Relative paths are made absolute against the current directory; a leading {@code ~} is the home
 * directory ({@code $HOME}), as everywhere in {@link HfCache}.
 *
 * <p>Other variables: {@code HF_ENDPOINT} (default {@code https://huggingface.co});
 * {@code HF_TOKEN} (or {@code HUGGING_FACE_HUB_TOKEN}), else the token file {@code HF_TOKEN_PATH},
 * default {@code $HF_HOME/token} with {@code HF_HOME} defaulting to
 * {@code $XDG_CACHE_HOME/huggingface} or {@code ~/.cache/huggingface} (where {@code hf auth login}
 * writes it); {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) = 1/true/yes/on: never touch
 * the network; {@code HF_HUB_ETAG_TIMEOUT} and {@code HF_HUB_DOWNLOAD_TIMEOUT} in seconds (default 10).
 *
 * <p>Deadlines, so that no server can hold a run forever: a metadata request (the revision API, a
 * HEAD) must have its headers within {@code HF_HUB_ETAG_TIMEOUT} and be complete, body and
 * redirects included, within {@code LAYERSCOPE_HUB_API_DEADLINE} seconds (default 60); a download
 * whose connection brings less than {@link #STALL_MIN_BYTES} (or the rest of the file) in
 * {@code HF_HUB_DOWNLOAD_TIMEOUT} is stalled: dropped and resumed. Sizes are bounded too: an API
 * answer by {@link #MAX_API_BYTES}, a file by the size the Hub announced for it.
 *
 * <p>The token is never part of {@link #toString()} or of any message; only where it came from is.
 *
 * <pre>{@code
 * HubSettings settings = HubSettings.fromEnvironment(System.getenv(), cacheDirOptionOrNull);
 * }</pre>
 */
public final class HubSettings {

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    public static final int DEFAULT_PARALLEL_DOWNLOADS = 4;
    /** The longest answer accepted from the revision API: a file list of tens of thousands of files fits. */
    public static final int MAX_API_BYTES = 8 << 20;
    /** A download that brings less than this (or the rest of its file) in the download timeout is stalled. */
    public static final long STALL_MIN_BYTES = 64 << 10;
    static final String API_DEADLINE = "LAYERSCOPE_HUB_API_DEADLINE";
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    private final URI endpoint;
    private final Path cacheDir;
    private final String cacheDirSource;
    private final String token;
    private final String tokenSource;
    private final boolean offline;
    private final Duration metadataTimeout;
    private final Duration downloadTimeout;
    private final Duration apiDeadline;
    private final int parallelDownloads;
    private final Sha256Cache sha256Cache;

    private HubSettings(URI endpoint, Path cacheDir, String cacheDirSource, String token, String tokenSource,
            boolean offline, Duration metadataTimeout, Duration downloadTimeout, Duration apiDeadline,
            int parallelDownloads, Sha256Cache sha256Cache) {
        this.endpoint = endpoint;
        this.cacheDir = cacheDir;
        this.cacheDirSource = cacheDirSource;
        this.token = token;
        this.tokenSource = tokenSource;
        this.offline = offline;
        this.metadataTimeout = metadataTimeout;
        this.downloadTimeout = downloadTimeout;
        this.apiDeadline = apiDeadline;
        this.parallelDownloads = parallelDownloads;
        this.sha256Cache = sha256Cache;
    }

    /**
     * Reads the settings from {@code env} (normally {@code System.getenv()}).
     *
     * @param cacheDirOption the {@code --cache-dir} the user gave, or null when the option was not given
     */
    public static HubSettings fromEnvironment(Map<String, String> env, Path cacheDirOption) {
        Path home = HfCache.home(env);
        HfCache.CacheDir cacheDir = HfCache.cacheDir(env, home, cacheDirOption);

        String token = null;
        String tokenSource = "none";
        for (String name : new String[] {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
            Optional<String> fromEnv = value(env, name).map(String::strip).filter(t -> !t.isEmpty());
            if (fromEnv.isPresent()) {
                token = fromEnv.get();
                tokenSource = name;
                break;
            }
        }
        if (token == null) {
            Path tokenFile = value(env, "HF_TOKEN_PATH").map(p -> HfCache.expand(p, home))
                    .orElseGet(() -> HfCache.hfHome(env, home).resolve("token"));
            Optional<String> fromFile = readToken(tokenFile);
            if (fromFile.isPresent()) {
                token = fromFile.get();
                tokenSource = "token file " + tokenFile;
            }
        }

        boolean offline = isTrue(value(env, "HF_HUB_OFFLINE").or(() -> value(env, "TRANSFORMERS_OFFLINE")));
        return new HubSettings(endpoint(env), cacheDir.path(), cacheDir.source(), token, tokenSource,
                offline, seconds(env, "HF_HUB_ETAG_TIMEOUT", 10), seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT", 10),
                seconds(env, API_DEADLINE, 60), DEFAULT_PARALLEL_DOWNLOADS, Sha256Cache.forEnvironment(env));
    }

    /** The same settings with at most {@code n} files downloaded at once. */
    public HubSettings withParallelDownloads(int n) {
        if (n < 1) {
            throw new LayerscopeException("parallel downloads must be at least 1, got " + n);
        }
        return new HubSettings(endpoint, cacheDir, cacheDirSource, token, tokenSource, offline, metadataTimeout,
                downloadTimeout, apiDeadline, n, sha256Cache);
    }

    /** The same settings with another timeout for a stalled download (no byte received for that long). */
    public HubSettings withDownloadTimeout(Duration timeout) {
        return new HubSettings(endpoint, cacheDir, cacheDirSource, token, tokenSource, offline, metadataTimeout,
                timeout, apiDeadline, parallelDownloads, sha256Cache);
    }

    /** The Hub's base URL, without a trailing slash. */
    public URI endpoint() {
        return endpoint;
    }

    /** The endpoint as messages show it: any user name and password in it as {@code ***}. */
    public String endpointForMessages() {
        return Redaction.url(endpoint);
    }

    /** The absolute cache root. */
    public Path cacheDir() {
        return cacheDir;
    }

    /** Which rule chose the cache root: "--cache-dir", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME" or "default". */
    public String cacheDirSource() {
        return cacheDirSource;
    }

    public boolean hasToken() {
        return token != null;
    }

    /** Where the token came from ("HF_TOKEN", "token file /home/u/.cache/huggingface/token") or "none"; never the token. */
    public String tokenSource() {
        return tokenSource;
    }

    /** True when HF_HUB_OFFLINE asks for no network at all. */
    public boolean offline() {
        return offline;
    }

    /** How long to wait for a metadata answer (HEAD, API). */
    public Duration metadataTimeout() {
        return metadataTimeout;
    }

    /**
     * How long a download may receive less than {@link #STALL_MIN_BYTES} (nothing, or a trickle) before
     * the connection is dropped and resumed.
     */
    public Duration downloadTimeout() {
        return downloadTimeout;
    }

    /** How long one metadata request may take in all, from sending it to the last byte of its answer. */
    public Duration apiDeadline() {
        return apiDeadline;
    }

    public int parallelDownloads() {
        return parallelDownloads;
    }

    /** Where a download records the sha256 it verified, so that a sweep does not hash the file again. */
    public Sha256Cache sha256Cache() {
        return sha256Cache;
    }

    /** The token, for the Authorization header only: package-private so that it cannot reach logs by accident. */
    Optional<String> token() {
        return Optional.ofNullable(token);
    }

    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpointForMessages() + ", cacheDir=" + cacheDir + " (" + cacheDirSource + "), token="
                + (token == null ? "none" : "set, from " + tokenSource) + ", offline=" + offline + "]";
    }

    private static URI endpoint(Map<String, String> env) {
        Optional<String> raw = value(env, "HF_ENDPOINT");
        if (raw.isEmpty()) {
            return DEFAULT_ENDPOINT;
        }
        String text = raw.get().strip();
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null || uri.getHost() == null
                || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new LayerscopeException("HF_ENDPOINT=" + Redaction.userInfo(raw.get())
                    + " is not an http(s) URL; set it to the Hub or a mirror, e.g. https://huggingface.co, or unset it");
        }
        return uri;
    }

    private static Duration seconds(Map<String, String> env, String name, int defaultSeconds) {
        Optional<String> raw = value(env, name);
        if (raw.isEmpty()) {
            return Duration.ofSeconds(defaultSeconds);
        }
        try {
            double s = Double.parseDouble(raw.get().strip());
            if (s > 0 && s < 1e6) {
                return Duration.ofMillis(Math.round(s * 1000));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new LayerscopeException(name + "=" + raw.get() + " is not a number of seconds > 0; unset it for the default "
                + defaultSeconds);
    }

    private static Optional<String> readToken(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(text);
        } catch (IOException | SecurityException e) {
            return Optional.empty(); // no token file is the common case, as in huggingface_hub
        }
    }

    private static boolean isTrue(Optional<String> raw) {
        return raw.map(v -> TRUE_VALUES.contains(v.strip().toUpperCase(Locale.ROOT))).orElse(false);
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v);
    }
}
