package io.layerscope.hub;

import io.layerscope.Sha256;
import io.layerscope.FileIdentity;
import io.layerscope.WholeFiles;
import io.layerscope.model.HfCache;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SHA-256 of files, remembered by the file's identity so that a sweep of an unchanged checkpoint
 * does not read every weight again for run.json (seconds of CPU at 1B parameters, tens at 8B).
 * As git's index does, it trusts what the file system says changes with the content: device, inode,
 * size, modification time and status-change time (ctime, which no user call can set back, so a
 * copy over the file with its old mtime restored still misses). A hash is remembered only when the
 * file did not change while it was read and its last change is {@link #SETTLED} old, so a write in
 * the same timestamp tick as the reading cannot leave a stale entry.
 *
 * <p>Entries are small text files under {@code $XDG_CACHE_HOME/layerscope/sha256} (else
 * {@code ~/.cache/layerscope/sha256}), one per file path, replaced atomically. A cache that cannot
 * be read or written only costs the hashing: {@link #of} never fails for it. The first time an
 * instance writes an entry (a file was hashed, which costs far more), it also removes the entries of
 * files that no longer exist, so checkpoints swept once and deleted leave nothing behind; an entry
 * removed for a file that comes back (a remounted disk) costs one more hashing.
 *
 * <pre>{@code
 * String hex = Sha256Cache.forEnvironment(System.getenv()).of(Path.of("model.safetensors"));
 * }</pre>
 */
public final class Sha256Cache {
    /** How old a file's last change must be before its hash is remembered. */
    public static final Duration SETTLED = Duration.ofSeconds(2);
    /** How old a temporary entry must be to count as left behind by a process that died writing it. */
    static final Duration ABANDONED = Duration.ofHours(1);

    private final Path dir;
    private final Duration settled;
    private final AtomicBoolean pruned = new AtomicBoolean();

    public Sha256Cache(Path dir, Duration settled) {
        this.dir = dir;
        this.settled = settled;
    }

    /**
     * The cache of the user the environment {@code env} names: {@code $XDG_CACHE_HOME/layerscope/sha256},
     * else {@code ~/.cache/layerscope/sha256}.
     */
    public static Sha256Cache forEnvironment(Map<String, String> env) {
        return new Sha256Cache(standardDir(env), SETTLED);
    }

    static Path standardDir(Map<String, String> env) {
        return HfCache.layerscopeCache(env, "sha256");
    }

    /**
     * The file's lowercase hex SHA-256: remembered when its identity is unchanged since it was
     * hashed, read in full otherwise (and then remembered when it has settled).
     *
     * @throws java.io.InterruptedIOException when the thread is interrupted while hashing
     */
    public String of(Path file) throws IOException {
        Path real = file.toRealPath();
        Optional<FileIdentity> before = FileIdentity.of(real);
        if (before.isEmpty()) {
            return Sha256.of(real);
        }
        Path entry = entryFor(real);
        Optional<String> known = read(entry, real, before.get());
        if (known.isPresent()) {
            return known.get();
        }
        Instant started = Instant.now();
        String sha = Sha256.of(real);
        Optional<FileIdentity> after = FileIdentity.of(real);
        if (after.equals(before) && before.get().lastChange().plus(settled).isBefore(started)) {
            write(entry, real, before.get(), sha);
        }
        return sha;
    }

    /**
     * Records {@code sha} as the file's SHA-256, computed by the caller from the bytes it wrote (a
     * download verified as it arrived), so that {@link #of} does not read the file again. The caller
     * vouches that nothing writes to the file any more: there is no settling time here. Never fails
     * for the cache; a file that cannot be resolved is simply not remembered.
     */
    public void remember(Path file, String sha) {
        if (!Sha256.isSha256(sha)) {
            throw new IllegalArgumentException("not a lowercase hex sha256: " + sha);
        }
        try {
            Path real = file.toRealPath();
            FileIdentity.of(real).ifPresent(identity -> write(entryFor(real), real, identity, sha));
        } catch (IOException e) {
            // not remembered: hashed when next asked
        }
    }

    /** One entry per real path; its name is the path's own sha256, so any path makes a valid file name. */
    private Path entryFor(Path real) {
        return dir.resolve(Sha256.of(real.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static Optional<String> read(Path entry, Path real, FileIdentity now) {
        try {
            List<String> lines = Files.readAllLines(entry, StandardCharsets.UTF_8);
            if (lines.size() == 3 && lines.get(0).equals(real.toString()) && lines.get(1).equals(now.toString())
                    && Sha256.isSha256(lines.get(2))) {
                return Optional.of(lines.get(2));
            }
        } catch (IOException | RuntimeException e) {
            // no entry, or one this version cannot read: hash the file
        }
        return Optional.empty();
    }

    private void write(Path entry, Path real, FileIdentity identity, String sha) {
        try {
            Files.createDirectories(dir);
            WholeFiles.write(entry, (real + "\n" + identity + "\n" + sha + "\n").getBytes(StandardCharsets.UTF_8));
            if (pruned.compareAndSet(false, true)) {
                prune();
            }
        } catch (IOException | RuntimeException e) {
            // a cache that cannot be written (read-only home, full disk) only means hashing next time; a
            // temporary file that could not be deleted either is pruned once abandoned
        }
    }

    /**
     * Removes the entries whose file is gone and temporary entries older than {@link #ABANDONED};
     * whatever cannot be read or removed is left as it is.
     */
    void prune() {
        Instant abandoned = Instant.now().minus(ABANDONED);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                try {
                    String name = e.getFileName().toString();
                    if (WholeFiles.isTemporary(e)) {
                        if (Files.getLastModifiedTime(e).toInstant().isBefore(abandoned)) {
                            Files.deleteIfExists(e);
                        }
                    } else if (Sha256.isSha256(name) && !fileExists(firstLine(e))) {
                        Files.deleteIfExists(e);
                    }
                } catch (IOException | RuntimeException ignored) {
                    // kept: a later prune may manage
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // no directory to prune
        }
    }

    /** The entry's file path, or null for an entry this version cannot read (then nothing finds it). */
    private static String firstLine(Path entry) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(entry, StandardCharsets.UTF_8)) {
            return r.readLine();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private static boolean fileExists(String path) {
        try {
            return path != null && !path.isEmpty() && Path.of(path).isAbsolute() && Files.exists(Path.of(path));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }
}
