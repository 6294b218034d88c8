package io.layerscope.hub;

import io.layerscope.Failures;
import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Fetches repo files from the Hugging Face Hub into the shared cache, or finds them there.
 *
 * <p>Online, a revision is pinned to a commit first (by the revision API, or by the first HEAD),
 * then every file not yet in that commit's snapshot gets a HEAD (etag, size, CDN location) and,
 * if its blob is missing, a download: up to {@link HubSettings#parallelDownloads()} at once,
 * resumable, verified. Files already in the snapshot cost no request. When the Hub cannot be
 * reached (or answers 5xx, 401, 403) and the cache has everything asked for at that revision, the
 * cache is used with a notice, as huggingface_hub does. With {@code HF_HUB_OFFLINE=1} nothing
 * touches the network: the cache has it or the call fails naming what is missing.
 *
 * <pre>{@code
 * HubClient hub = new HubClient(HubSettings.fromEnvironment(System.getenv(), null),
 *         ConsoleProgress.toStandardError());
 * ResolvedSnapshot model = hub.model("meta-llama/Llama-3.2-1B", "main");
 * Path config = model.file("config.json");
 * }</pre>
 */
public final class HubClient {

    public static final String DEFAULT_REVISION = "main";

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(
            io.layerscope.DaemonThreads.named("hub-download-watchdog"));

    private final HubSettings settings;
    private final HubCache cache;
    private final HubHttp http;
    private final BlobDownload blobs;
    private final ProgressListener progress;
    private final ToLongFunction<Path> freeSpace;

    public HubClient(HubSettings settings, ProgressListener progress) {
        this(settings, progress, HubClient::usableSpace);
    }

    /** With another measure of free disk space (tests). */
    HubClient(HubSettings settings, ProgressListener progress, ToLongFunction<Path> freeSpace) {
        this.settings = settings;
        this.cache = new HubCache(settings.cacheDir());
        this.http = new HubHttp(settings, WATCHDOG);
        this.blobs = new BlobDownload(http, cache, settings, WATCHDOG);
        this.progress = progress;
        this.freeSpace = freeSpace;
    }

    public HubSettings settings() {
        return settings;
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * The snapshot of {@code revision} holding exactly {@code files} (repo paths such as
     * {@code en/c4-train.00000-of-01024.json.gz}), downloading those not in the cache.
     *
     * @param revision a branch, tag or commit sha; null means {@code main}
     */
    public ResolvedSnapshot snapshotOf(String repoId, String revision, RepoType type, List<String> files) {
        HubRepo repo = new HubRepo(type, repoId);
        String rev = revision == null ? DEFAULT_REVISION : revision;
        if (files.isEmpty()) {
            throw new LayerscopeException("no files asked for from " + repo.describe());
        }
        List<String> wanted = List.copyOf(new LinkedHashSet<>(files));
        if (settings.offline()) {
            return fromCache(repo, rev, wanted, offlineReason());
        }
        return orCached(repo, rev, () -> {
            String commit = fetch(repo, rev, wanted);
            cache.writeRef(repo, rev, commit);
            return resolved(repo, rev, commit, wanted);
        }, why -> fromCache(repo, rev, wanted, why));
    }

    /**
     * The snapshot of {@code revision} holding the repo files that {@code filter} accepts (the
     * file list comes from the revision API, or from the cached snapshot when offline).
     */
    public ResolvedSnapshot snapshotOf(String repoId, String revision, RepoType type, Predicate<String> filter) {
        HubRepo repo = new HubRepo(type, repoId);
        String rev = revision == null ? DEFAULT_REVISION : revision;
        if (settings.offline()) {
            return filteredFromCache(repo, rev, filter, offlineReason());
        }
        RepoListing listing;
        try {
            listing = http.listing(repo, rev);
        } catch (IOException | HubResponseException e) {
            return cachedInstead(repo, rev, e, why -> filteredFromCache(repo, rev, filter, why));
        }
        // the files' download has its own fallback: a failure past it stands
        List<String> files = listing.files().stream().filter(filter).toList();
        if (files.isEmpty()) {
            throw new LayerscopeException(repo.describe() + " at revision " + rev + " (commit " + listing.commit()
                    + ") has no file that the filter accepts among its " + listing.files().size() + " files");
        }
        ResolvedSnapshot snapshot = snapshotOf(repo.id(), listing.commit(), repo.type(), files);
        cache.writeRef(repo, rev, listing.commit());
        return new ResolvedSnapshot(repo.id(), rev, snapshot.commitSha(), snapshot.dir(), snapshot.sha256ByFile());
    }

    /**
     * A model's config, tokenizer and generation files (those it has) and its safetensors weights
     * ({@link ModelFiles}), from the cache or the Hub.
     *
     * @param revision a branch, tag or commit sha; null means {@code main}
     */
    public ResolvedSnapshot model(String repoId, String revision) {
        HubRepo repo = new HubRepo(RepoType.MODEL, repoId);
        String rev = revision == null ? DEFAULT_REVISION : revision;
        if (settings.offline()) {
            return modelFromCache(repo, rev, offlineReason());
        }
        return orCached(repo, rev, () -> modelOnline(repo, rev), why -> modelFromCache(repo, rev, why));
    }

    private ResolvedSnapshot modelOnline(HubRepo repo, String rev) throws IOException {
        RepoListing listing = http.listing(repo, rev);
        String commit = listing.commit();
        if (!listing.files().contains(ModelFiles.CONFIG)) {
            throw new LayerscopeException(repo.describe() + " at revision " + rev + " (commit " + commit
                    + ") has no config.json: it is not a transformers checkpoint that layerscope can read");
        }
        String entry = ModelFiles.weightsEntry(listing.files()).orElseThrow(() -> noSafetensors(repo, rev, commit,
                listing.files()));
        List<String> files = new ArrayList<>(ModelFiles.metadata(listing.files()));
        if (entry.equals(ModelFiles.WEIGHTS_INDEX)) {
            fetch(repo, commit, List.of(entry));
            files.add(entry);
            files.addAll(ModelFiles.shards(cache.snapshotFile(repo, commit, entry)));
        } else {
            files.add(entry);
        }
        fetch(repo, commit, files);
        cache.writeRef(repo, rev, commit);
        return resolved(repo, rev, commit, files);
    }

    // --- online -----------------------------------------------------------------------------------

    /** Brings {@code files} of {@code revision} into the cache; returns the commit they belong to. */
    private String fetch(HubRepo repo, String revision, List<String> files) throws IOException {
        String commit = HfCache.isCommit(revision) ? revision : null;
        List<String> unknown = commit == null ? files : notInSnapshot(repo, commit, files);
        if (unknown.isEmpty()) {
            return commit;
        }
        // The first HEAD alone: it pins a branch to a commit, and a gated or missing repo fails on it
        // the same way every time instead of on whichever parallel request loses the race.
        List<FileMetadata> metas = new ArrayList<>();
        FileMetadata first = head(repo, commit == null ? revision : commit, unknown.get(0));
        commit = first.commit();
        if (!Files.isRegularFile(cache.snapshotFile(repo, commit, first.file()))) {
            metas.add(first);
        }
        unknown = notInSnapshot(repo, commit, unknown.subList(1, unknown.size()));
        String pinned = commit;
        List<Callable<FileMetadata>> heads = new ArrayList<>();
        for (String file : unknown) {
            heads.add(() -> head(repo, pinned, file));
        }
        metas.addAll(inParallel(heads));
        downloadMissingBlobs(repo, pinned, metas);
        for (FileMetadata meta : metas) {
            cache.link(repo, pinned, meta.file(), meta.etag());
        }
        return pinned;
    }

    private FileMetadata head(HubRepo repo, String revision, String file) throws IOException {
        try {
            return http.head(repo, revision, file);
        } catch (HubResponseException e) {
            if (e.errorCode().equals("EntryNotFound") && e.commit() != null && HfCache.isCommit(e.commit())) {
                cache.markMissing(repo, e.commit(), file);
            }
            throw e;
        }
    }

    private void downloadMissingBlobs(HubRepo repo, String revision, List<FileMetadata> metas) throws IOException {
        Map<String, FileMetadata> byEtag = new LinkedHashMap<>(); // files with equal content download once
        for (FileMetadata meta : metas) {
            if (!Files.isRegularFile(cache.blob(repo, meta.etag()))) {
                byEtag.putIfAbsent(meta.etag(), meta);
            }
        }
        if (byEtag.isEmpty()) {
            return;
        }
        long total = 0;
        long resumed = 0;
        for (FileMetadata meta : byEtag.values()) {
            // saturating: sizes a hostile server announces could wrap the sum round to a small one
            total = total + meta.size() < 0 ? Long.MAX_VALUE : total + meta.size();
            long have = partialSize(cache.incompleteBlob(repo, meta.etag()));
            resumed += have <= meta.size() ? have : 0;
        }
        requireSpace(repo, total - resumed);
        List<Callable<Void>> downloads = new ArrayList<>();
        for (FileMetadata meta : byEtag.values()) {
            downloads.add(() -> {
                blobs.fetch(repo, revision, meta, progress);
                return null;
            });
        }
        int n = byEtag.size();
        progress.begin(repo.describe() + ": " + n + (n == 1 ? " file" : " files"), total, resumed);
        try {
            inParallel(downloads);
        } finally {
            progress.end();
        }
    }

    private void requireSpace(HubRepo repo, long needed) {
        Path existing = io.layerscope.RealPaths.nearestExisting(cache.root());
        if (existing == null) {
            return;
        }
        long free = freeSpace.applyAsLong(existing);
        if (free >= 0 && free < needed) {
            throw new LayerscopeException("not enough disk space for " + repo.describe() + ": the download needs "
                    + ConsoleProgress.bytes(needed) + " but the disk of the Hugging Face cache " + cache.root()
                    + " has " + ConsoleProgress.bytes(free) + " free. Free some space there, or point --cache-dir"
                    + " (or HF_HUB_CACHE) at a disk with room.");
        }
    }

    /** Runs {@code tasks} on up to parallelDownloads threads; the first failure cancels the rest. */
    private <T> List<T> inParallel(List<Callable<T>> tasks) throws IOException {
        if (tasks.isEmpty()) {
            return List.of();
        }
        if (tasks.size() == 1) {
            return java.util.Collections.singletonList(call(tasks.get(0)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(settings.parallelDownloads(), tasks.size()),
                io.layerscope.DaemonThreads.named("hub-download"));
        try {
            CompletionService<T> done = new ExecutorCompletionService<>(pool);
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(done.submit(task));
            }
            for (int i = 0; i < tasks.size(); i++) {
                Future<T> finished = done.take();
                try {
                    finished.get();
                } catch (ExecutionException e) {
                    throw Failures.asIOException(e.getCause());   // the finally block stops the others
                }
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LayerscopeException("interrupted while downloading from the Hub", e);
        } catch (ExecutionException e) {
            throw Failures.asIOException(e.getCause());
        } finally {
            pool.shutdownNow();
            // the others stop at their next read (interrupt, or the stall deadline): wait for them, so
            // that nothing is written into the cache after this call has returned or thrown
            awaitStopped(pool);
        }
    }

    private void awaitStopped(ExecutorService pool) {
        try {
            pool.awaitTermination(settings.downloadTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> T call(Callable<T> task) throws IOException {
        try {
            return task.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> notInSnapshot(HubRepo repo, String commit, List<String> files) {
        return files.stream().filter(f -> !Files.isRegularFile(cache.snapshotFile(repo, commit, f))).toList();
    }

    // --- the cache alone ------------------------------------------------------------------------

    private ResolvedSnapshot fromCache(HubRepo repo, String revision, List<String> files, String why) {
        String commit = cache.commitOf(repo, revision).orElseThrow(() -> notCached(repo, revision, why, null, files));
        List<String> missing = notInSnapshot(repo, commit, files);
        if (!missing.isEmpty()) {
            throw notCached(repo, revision, why, commit, missing);
        }
        return resolved(repo, revision, commit, files);
    }

    /** What is asked of the Hub: a network failure is an IOException, an unwelcome answer a HubResponseException. */
    @FunctionalInterface
    private interface Online {
        ResolvedSnapshot ask() throws IOException;
    }

    /**
     * {@code online}'s snapshot; when the Hub cannot be reached or fails for now (not a definitive
     * answer such as 404), the cached one {@code fromCache} finds (given the reason), with a notice,
     * or the Hub's failure if the cache lacks it too.
     */
    private ResolvedSnapshot orCached(HubRepo repo, String rev, Online online, Function<String, ResolvedSnapshot> fromCache) {
        try {
            return online.ask();
        } catch (IOException | HubResponseException e) {
            return cachedInstead(repo, rev, e, fromCache);
        }
    }

    /**
     * After {@code e} (an IOException or a HubResponseException), the cached snapshot {@code fromCache}
     * finds, with a notice; {@code e} as the user's error if it is definitive or the cache lacks the
     * snapshot. What else goes wrong reading the cache (a file that cannot be read) is said as it is.
     */
    private ResolvedSnapshot cachedInstead(HubRepo repo, String rev, Exception e, Function<String, ResolvedSnapshot> fromCache) {
        LayerscopeException failure;
        String reason;
        if (e instanceof HubResponseException answer) {
            if (answer.isDefinitive()) {
                throw answer;
            }
            failure = answer;
            reason = "HTTP " + answer.status();
        } else {
            failure = unreachable(repo, rev, (IOException) e);
            reason = networkReason((IOException) e);
        }
        ResolvedSnapshot cached;
        try {
            cached = fromCache.apply(reason);
        } catch (NotCached notThere) {
            throw failure;
        }
        progress.notice("could not check " + repo.describe() + " on the Hub (" + reason + "); using the cached snapshot "
                + cached.dir());
        return cached;
    }

    /** The model files of a cached snapshot; throws naming what is missing. */
    private ResolvedSnapshot modelFromCache(HubRepo repo, String revision, String why) {
        String commit = cache.commitOf(repo, revision)
                .orElseThrow(() -> notCached(repo, revision, why, null, List.of(ModelFiles.CONFIG)));
        List<String> present = cache.snapshotFiles(repo, commit);
        List<String> missing = new ArrayList<>();
        if (!present.contains(ModelFiles.CONFIG)) {
            missing.add(ModelFiles.CONFIG);
        }
        List<String> files = new ArrayList<>(ModelFiles.metadata(present));
        Optional<String> entry = ModelFiles.weightsEntry(present);
        if (entry.isEmpty()) {
            missing.add(ModelFiles.SINGLE_WEIGHTS + " (or " + ModelFiles.WEIGHTS_INDEX + " and its shards)");
        } else {
            files.add(entry.get());
            if (entry.get().equals(ModelFiles.WEIGHTS_INDEX)) {
                List<String> shards = ModelFiles.shards(cache.snapshotFile(repo, commit, entry.get()));
                files.addAll(shards);
                shards.stream().filter(s -> !present.contains(s)).forEach(missing::add);
            }
        }
        if (!missing.isEmpty()) {
            throw notCached(repo, revision, why, commit, missing);
        }
        return resolved(repo, revision, commit, files);
    }

    private ResolvedSnapshot filteredFromCache(HubRepo repo, String revision, Predicate<String> filter, String why) {
        String commit = cache.commitOf(repo, revision).orElseThrow(() -> notCached(repo, revision, why, null, List.of()));
        List<String> files = cache.snapshotFiles(repo, commit).stream().filter(filter).toList();
        if (files.isEmpty()) {
            throw notCached(repo, revision, why, commit, List.of("any file the filter accepts"));
        }
        return resolved(repo, revision, commit, files);
    }

    private ResolvedSnapshot resolved(HubRepo repo, String revision, String commit, List<String> files) {
        Map<String, String> sha = new TreeMap<>();
        for (String f : files) {
            sha.put(f, cache.sha256Of(cache.snapshotFile(repo, commit, f)));
        }
        return new ResolvedSnapshot(repo.id(), revision, commit, cache.snapshotDir(repo, commit), sha);
    }

    // --- messages -------------------------------------------------------------------------------

    private static String offlineReason() {
        return "HF_HUB_OFFLINE=1 is set";
    }

    /** The cache lacks what was asked: where the Hub failed, its failure is the one to tell. */
    private static final class NotCached extends LayerscopeException {
        private static final long serialVersionUID = 1L;

        NotCached(String message) {
            super(message);
        }
    }

    private NotCached notCached(HubRepo repo, String revision, String why, String commit,
            List<String> missing) {
        String where = commit == null
                ? "the cache at " + cache.root() + " has no snapshot of " + repo.describe() + " for revision " + revision
                        + " (" + refProblem(cache.refFile(repo, revision)) + ")"
                : "the cached snapshot " + cache.snapshotDir(repo, commit) + " of " + repo.describe() + " (revision "
                        + revision + ") lacks " + String.join(", ", missing);
        return new NotCached(why + ", and " + where + ". Run once where the Hub is reachable (without"
                + " HF_HUB_OFFLINE), or point --cache-dir (or HF_HUB_CACHE) at a cache that has it.");
    }

    /** Why a ref file named no commit: absent, or holding something else (a damaged or hand-made cache). */
    private static String refProblem(java.nio.file.Path ref) {
        if (java.nio.file.Files.isDirectory(ref)) {
            return ref + " is a directory, not a file holding a commit";
        }
        if (!java.nio.file.Files.isRegularFile(ref)) {
            return "no " + ref;
        }
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(ref)) {
            String held = new String(in.readNBytes(80), java.nio.charset.StandardCharsets.UTF_8).strip();
            return ref + " holds \"" + held + "\", not a 40-hex commit";
        } catch (java.nio.file.AccessDeniedException e) {
            return "cannot read " + ref + ": permission denied";
        } catch (IOException e) {
            return "cannot read " + ref + ": " + e.getMessage();
        }
    }

    private LayerscopeException unreachable(HubRepo repo, String revision, IOException e) {
        if (e instanceof HubHttp.DeadlineExceeded late) {
            return new LayerscopeException("the Hugging Face Hub at " + settings.endpointForMessages() + " did not finish its answer"
                    + " to " + late.url() + " within " + late.deadline() + " (" + HubSettings.API_DEADLINE + ") while fetching "
                    + repo.describe() + " at revision " + revision + ", and the cache at " + cache.root()
                    + " does not have it complete. Check the network and any proxy between here and the Hub, or raise "
                    + HubSettings.API_DEADLINE + " (seconds) for a slow link.", e);
        }
        return new LayerscopeException("cannot reach the Hugging Face Hub at " + settings.endpointForMessages() + " ("
                + networkReason(e) + ") to fetch " + repo.describe() + " at revision " + revision
                + ", and the cache at " + cache.root() + " does not have it complete. Check the network and any proxy"
                + " (Java reads no HTTPS_PROXY: pass --driver-java-options '-Dhttps.proxyHost=HOST -Dhttps.proxyPort=PORT'"
                + " to submit.sh); on a machine without network, fill the cache"
                + " elsewhere, copy it to " + cache.root() + " and set HF_HUB_OFFLINE=1.", e);
    }

    private LayerscopeException noSafetensors(HubRepo repo, String revision, String commit, List<String> files) {
        List<String> other = ModelFiles.unreadableWeights(files);
        return new LayerscopeException(repo.describe() + " at revision " + revision + " (commit " + commit
                + ") has no safetensors weights (" + ModelFiles.SINGLE_WEIGHTS + " or " + ModelFiles.WEIGHTS_INDEX + ")"
                + (other.isEmpty() ? "" : "; it has " + String.join(", ", other))
                + ". layerscope reads safetensors only: choose a revision that has them (the Hub's safetensors"
                + " conversion bot often opened one as refs/pr/N) or convert the checkpoint with transformers'"
                + " save_pretrained(safe_serialization=True).");
    }

    static String networkReason(IOException e) {
        for (Throwable t : io.layerscope.Failures.causes(e)) {
            if (t instanceof HttpConnectTimeoutException) {
                return "connection timed out";
            }
            if (t instanceof HttpTimeoutException) {
                return "no answer in time";
            }
            if (t instanceof ConnectException) {
                return t.getMessage() == null || t.getMessage().isBlank() ? "connection refused" : t.getMessage();
            }
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "unknown host";
            }
        }
        return BlobDownload.reason(e);
    }

    private static long partialSize(Path part) {
        try {
            return Files.isRegularFile(part) ? Files.size(part) : 0;
        } catch (IOException e) {
            return 0; // counted as not started; the download itself reports a real disk problem
        }
    }

    private static long usableSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return -1; // unknown: let the download try
        }
    }
}
