package io.layerscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Deleting a directory tree, which {@code java.nio.file} has no single call for: strictly (the demo
 * model's and the benchmark's temporary directories), or as much as can go (a job's staging and
 * replaced results, where the caller says what stays).
 *
 * <pre>{@code
 * FileTrees.deleteRecursively(tmp);   // tmp and everything under it; nothing if tmp does not exist
 * }</pre>
 */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and everything under it, children first; throws on the first file that cannot go. */
    public static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Whether {@code dir} is a directory with nothing in it (false when it cannot be listed). */
    public static boolean isEmptyDirectory(Path dir) {
        try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes what it can of {@code p} (not following links); a part it cannot list stays. */
    public static void deleteWhatCan(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(p, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a) {
                    deleteQuietly(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                    return java.nio.file.FileVisitResult.CONTINUE;   // best effort: the caller says what stays
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path dir, IOException e) {
                    deleteQuietly(dir);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // as visitFileFailed
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort during cleanup
        }
    }
}
