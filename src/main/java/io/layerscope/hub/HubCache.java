package io.layerscope.hub;

import io.layerscope.Sha256;
import io.layerscope.LayerscopeException;
import io.layerscope.WholeFiles;
import io.layerscope.model.HfCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Hugging Face cache on disk, laid out as huggingface_hub lays it out, so that a cache filled
 * by {@code transformers} or {@code datasets} is used as it is and the other way round:
 *
 * <pre>
 * &lt;root&gt;/models--org--name/
 *     blobs/&lt;etag&gt;                      file contents, named by sha256 (LFS) or git sha1
 *     snapshots/&lt;commit&gt;/&lt;file&gt;        relative symbolic links to ../../blobs/&lt;etag&gt;
 *     refs/&lt;revision&gt;                   the commit sha a branch or tag pointed to when last fetched
 *     .no_exist/&lt;commit&gt;/&lt;file&gt;        empty markers: the file does not exist at that commit
 * &lt;root&gt;/.locks/models--org--name/&lt;etag&gt;.lock
 * </pre>
 *
 * Lookups here never touch the network. Where caches are, how repo folders are named and how a
 * revision leads to its snapshot is {@link HfCache}'s, which model resolution uses too; this class
 * adds the typed repos, the blobs, locks and the writing.
 *
 * <pre>{@code
 * HubCache cache = new HubCache(settings.cacheDir());
 * Optional<Path> config = cache.cachedFile(new HubRepo(RepoType.MODEL, "meta-llama/Llama-3.2-1B"), "main", "config.json");
 * }</pre>
 */
public final class HubCache {

    // An etag becomes a file name: accept what the Hub sends (hex) and what mirrors plausibly send.
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_.\\-]{1,200}");

    private final Path root;

    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path repoDir(HubRepo repo) {
        return root.resolve(repo.folderName());
    }

    public Path snapshotDir(HubRepo repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(checkedCommit(commit));
    }

    /** The ref file that records which commit {@code revision} (a branch or tag) pointed to. */
    public Path refFile(HubRepo repo, String revision) {
        return HfCache.refFile(repoDir(repo), revision);
    }

    /**
     * The commit that {@code revision} means in this cache: the revision itself if it is a commit
     * sha, otherwise the content of {@code refs/<revision>} if the cache has it.
     */
    public Optional<String> commitOf(HubRepo repo, String revision) {
        return HfCache.commitOf(repoDir(repo), revision);
    }

    /** The snapshot folder of {@code revision}, if the cache has one. */
    public Optional<Path> snapshot(HubRepo repo, String revision) {
        return HfCache.snapshot(repoDir(repo), revision);
    }

    /** huggingface_hub's try_to_load_from_cache: the cached file of {@code revision}, if there. */
    public Optional<Path> cachedFile(HubRepo repo, String revision, String file) {
        return snapshot(repo, revision).map(dir -> HfCache.inside(dir, file, "file name")).filter(Files::isRegularFile);
    }

    /** True when an earlier download recorded that {@code file} does not exist at that revision. */
    public boolean isKnownMissing(HubRepo repo, String revision, String file) {
        return commitOf(repo, revision)
                .map(c -> Files.isRegularFile(HfCache.inside(repoDir(repo).resolve(".no_exist").resolve(c), file, "file name")))
                .orElse(false);
    }

    /** Files present in a snapshot (links whose blob exists), as repo paths with '/', sorted. */
    public List<String> snapshotFiles(HubRepo repo, String commit) {
        Path dir = snapshotDir(repo, commit);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile) // follows links: a dangling link is not a file
                    .forEach(p -> names.add(dir.relativize(p).toString().replace('\\', '/')));
        } catch (IOException | UncheckedIOException e) {
            throw new LayerscopeException("cannot list the cached snapshot " + dir + ": " + e.getMessage(), e);
        }
        names.sort(null);
        return names;
    }

    /**
     * The sha256 of a cached file: the blob's name when the Hub named it by its sha256 (LFS files),
     * computed from the bytes otherwise.
     */
    public String sha256Of(Path cachedFile) {
        try {
            Path real = cachedFile.toRealPath();
            String name = real.getFileName().toString();
            return Sha256.isSha256(name) ? name : Sha256.of(real);
        } catch (IOException e) {
            throw new LayerscopeException("cannot read the cached file " + cachedFile + ": " + e.getMessage(), e);
        }
    }

    // --- writing, used by the downloader -------------------------------------------------------

    Path blob(HubRepo repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(checkedEtag(etag));
    }

    Path incompleteBlob(HubRepo repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(checkedEtag(etag) + ".incomplete");
    }

    Path lockFile(HubRepo repo, String etag) {
        return root.resolve(".locks").resolve(repo.folderName()).resolve(checkedEtag(etag) + ".lock");
    }

    Path snapshotFile(HubRepo repo, String commit, String file) {
        return HfCache.inside(snapshotDir(repo, commit), file, "file name");
    }

    /** Records that {@code revision} points to {@code commit}; a commit sha needs no ref. */
    void writeRef(HubRepo repo, String revision, String commit) {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = refFile(repo, revision);
        try {
            if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
                return;
            }
            Files.createDirectories(ref.getParent());
            // no newline, as huggingface_hub writes it
            WholeFiles.write(ref, commit.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw writeFailure(ref, e);
        }
    }

    /** Makes {@code snapshots/<commit>/<file>} a relative link to the blob (a copy where links are refused). */
    Path link(HubRepo repo, String commit, String file, String etag) {
        Path target = snapshotFile(repo, commit, file);
        Path blob = blob(repo, etag);
        try {
            if (Files.isRegularFile(target)) {
                return target;
            }
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(target); // a dangling link left by a removed blob
            try {
                Files.createSymbolicLink(target, target.getParent().relativize(blob));
            } catch (FileAlreadyExistsException e) {
                return target; // another process linked it meanwhile
            } catch (UnsupportedOperationException | FileSystemException e) {
                // whole or absent: a copy cut short would pass for the file (only the blob is checked)
                io.layerscope.WholeFiles.write(target, out -> Files.copy(blob, out), io.layerscope.WholeFiles.Durability.CACHED);
            }
            return target;
        } catch (IOException e) {
            throw writeFailure(target, e);
        }
    }

    /** Records that {@code file} does not exist at {@code commit}, as huggingface_hub does after a 404. */
    void markMissing(HubRepo repo, String commit, String file) {
        Path marker = HfCache.inside(repoDir(repo).resolve(".no_exist").resolve(checkedCommit(commit)), file, "file name");
        try {
            Files.createDirectories(marker.getParent());
            if (!Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(marker);
            }
        } catch (IOException e) {
            // only a hint for later offline runs, as in huggingface_hub: not worth failing for
        }
    }

    LayerscopeException writeFailure(Path path, IOException e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (reason.contains("No space left")) {
            return new LayerscopeException("disk full while writing " + path + " in the Hugging Face cache " + root
                    + ": free some space there, or point --cache-dir (or HF_HUB_CACHE) at a disk with room; a partial"
                    + " download is kept as <etag>.incomplete and resumed next time", e);
        }
        return new LayerscopeException("cannot write " + path + " in the Hugging Face cache " + root + " (" + reason
                + "): check its permissions, or choose another cache with --cache-dir (or HF_HUB_CACHE)", e);
    }

    private static String checkedCommit(String commit) {
        if (!HfCache.isCommit(commit)) {
            throw new LayerscopeException("\"" + commit + "\" is not a commit sha (40 lower-case hex digits)");
        }
        return commit;
    }

    private static String checkedEtag(String etag) {
        if (etag == null || !ETAG.matcher(etag).matches() || etag.equals(".") || etag.equals("..")) {
            throw new LayerscopeException("the Hub sent the ETag \"" + etag + "\", which cannot name a cache file;"
                    + " check HF_ENDPOINT points at the Hugging Face Hub or a faithful mirror");
        }
        return etag;
    }
}
