package io.layerscope;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Writing a file whole or not at all: into a temporary file beside it, then renamed over it, so a
 * reader (another job, a crash, a full disk) sees the old file or the new one and never half of one.
 * {@code java.nio.file} has no single call for it.
 *
 * <p>The temporary file is created with the process's default mode (the umask decides, as for any
 * file the tool writes), not {@link Files#createTempFile}'s owner-only one, which the rename would
 * keep: a picture, a Hub ref or a shared cache entry would become unreadable to the rest of a team.
 * Its name is {@code .<target name>.<random>.tmp} ({@link #isTemporary}), so a cache that finds one
 * left by a killed process can tell it from its entries.
 *
 * <pre>{@code
 * WholeFiles.write(dir.resolve("layer.png"), png);                                // bytes
 * WholeFiles.write(entry, out -> result.writeTo(out), WholeFiles.Durability.FORCED); // on disk before the rename
 * }</pre>
 */
public final class WholeFiles {
    /** Whether the content reaches the disk before the rename makes it visible. */
    public enum Durability {
        /** The page cache suffices: after a power loss the file may be empty (pictures, small caches). */
        CACHED,
        /** Forced to the disk first: what survives a power loss is whole (entries that save long work). */
        FORCED
    }

    /** Writes the file's content. */
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static final String SUFFIX = ".tmp";
    /** Bytes of the target's name kept in the temporary name: within a file system's 255-byte limit. */
    private static final int NAME_KEPT = 120;

    /** The temporary files being written now: a signal's shutdown deletes them, since the JVM may end before their writers do. */
    private static final java.util.Set<Path> WRITING = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicBoolean HOOKED = new java.util.concurrent.atomic.AtomicBoolean();

    private WholeFiles() {
    }

    /** What is being written now (for tests). */
    static java.util.Set<Path> inFlight() {
        return java.util.Set.copyOf(WRITING);
    }

    private static void track(Path tmp) {
        if (HOOKED.compareAndSet(false, true)) {
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> WRITING.forEach(p -> {
                    try {
                        Files.deleteIfExists(p);   // a rename that got there first leaves nothing to delete
                    } catch (IOException e) {
                        // left for the next run's clean-up of abandoned files
                    }
                }), "layerscope-temporary-files"));
            } catch (IllegalStateException shuttingDown) {
                // the writer's own clean-up below is all there is
            }
        }
        WRITING.add(tmp);
    }

    /** {@code bytes} as the whole content of {@code target} (its directory must exist). */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes), Durability.CACHED);
    }

    /**
     * What {@code body} writes as the whole content of {@code target}, which it replaces if it exists;
     * on failure {@code target} is as it was and the temporary file is gone (what deleting it failed
     * on is added to the exception as suppressed).
     */
    public static void write(Path target, Body body, Durability durability) throws IOException {
        Path tmp = Files.createFile(temporaryFor(target));
        track(tmp);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                body.write(out);
                out.flush();
                if (durability == Durability.FORCED) {
                    ch.force(true);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // a file system without atomic renames in one directory (some FUSE mounts): the best it offers
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            WRITING.remove(tmp);
        }
    }

    /**
     * How old a temporary file must be before a run takes it for a killed writer's and deletes it: far
     * longer than any write takes.
     */
    public static final Duration ABANDONED = Duration.ofDays(1);

    /** Whether {@code file} is a temporary file {@link #write} made that was not modified for {@code age}. */
    public static boolean isAbandoned(Path file, Duration age) throws IOException {
        return isTemporary(file) && Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant()
                .isBefore(Instant.now().minus(age));
    }

    /** Whether {@code file}'s name is that of a temporary file {@link #write} makes (one a killed process left, say). */
    public static boolean isTemporary(Path file) {
        // the whole shape, a random UUID included: a cache directory a user shares holds other dot-files
        return TEMPORARY.matcher(file.getFileName().toString()).matches()
                && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS);
    }

    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile(
            "\\..+\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + java.util.regex.Pattern.quote(SUFFIX));

    /** A new name for a temporary file of {@code target}, beside it: {@code .<target name>.<random>.tmp}. */
    public static Path temporaryFor(Path target) {
        return target.resolveSibling(temporaryPrefix(target) + UUID.randomUUID() + SUFFIX);
    }

    /**
     * Deletes the temporary files of {@code target} that were not modified for {@code age}: a killed
     * writer's (one being written is newer). Other files, those of other targets included, stay; what
     * cannot be listed or deleted is left for a later run. Returns how many went.
     */
    public static int clearAbandoned(Path target, Duration age) {
        String prefix = temporaryPrefix(target);
        int cleared = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(target.toAbsolutePath().getParent(),
                f -> f.getFileName().toString().startsWith(prefix)
                        && f.getFileName().toString().length() == prefix.length() + UUID_CHARS + SUFFIX.length())) {
            for (Path f : files) {
                try {
                    if (isAbandoned(f, age) && Files.deleteIfExists(f)) {
                        cleared++;
                    }
                } catch (IOException gone) {
                    // removed by another run meanwhile, or not ours to remove: left as it is
                }
            }
        } catch (IOException e) {
            // an unreadable directory: the write that follows will say so
        }
        return cleared;
    }

    private static final int UUID_CHARS = 36;

    private static String temporaryPrefix(Path target) {
        String name = target.getFileName().toString();
        // the limit counts the name's bytes (UTF-8 on Linux), not its characters
        while (name.getBytes(StandardCharsets.UTF_8).length > NAME_KEPT) {
            name = name.substring(0, name.offsetByCodePoints(name.length(), -1));
        }
        return "." + name + ".";
    }
}
