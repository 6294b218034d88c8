package io.layerscope;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How layerscope's caches (stage one's results, remembered windows) keep within a size: an entry's
 * modification time is when a run last used it, and the least recently used entries go first.
 */
public final class CacheEntries {
    /** An entry: its key, the files it is made of (removed together), their bytes, and its last use. */
    public record Entry(String key, List<Path> files, long bytes, FileTime used) {
    }

    /** What {@link #trim} removed: entries and the bytes they took. */
    public record Removed(int entries, long bytes) {
    }

    /** What a file of a cache directory is: an entry, or null (a file the cache leaves alone, or removes as no one's). */
    @FunctionalInterface
    public interface Recognizer {
        Entry entryOf(Path file) throws IOException;
    }

    private CacheEntries() {
    }

    /**
     * Removes the least recently used of {@code entries} until the rest take at most {@code maxBytes},
     * but never the entry of {@code keep} (a run's own, which may alone exceed them). Ties go by key,
     * so that two runs trimming at once remove the same entries. An entry whose files cannot be
     * removed (another user's, in a shared cache) stays, and so does the size it takes.
     */
    public static Removed trim(List<Entry> entries, String keep, long maxBytes) {
        List<Entry> byUse = new ArrayList<>(entries);
        byUse.sort(Comparator.comparing(Entry::used).reversed().thenComparing(Entry::key));
        long kept = byUse.stream().filter(e -> e.key().equals(keep)).mapToLong(Entry::bytes).sum();
        int removed = 0;
        long removedBytes = 0;
        for (Entry e : byUse) {
            if (e.key().equals(keep)) {
                continue;
            }
            if (kept + e.bytes() <= maxBytes) {
                kept += e.bytes();
                continue;
            }
            try {
                for (Path f : e.files()) {
                    Files.deleteIfExists(f);
                }
                removed++;
                removedBytes += e.bytes();
            } catch (IOException | RuntimeException ignored) {
                // another user's entry in a shared cache: it stays
            }
        }
        return new Removed(removed, removedBytes);
    }

    /**
     * The entries of {@code dir} as {@code recognizer} tells them. A temporary file older than
     * {@link WholeFiles#ABANDONED} (a killed run's) is deleted on the way; a file removed by another run
     * meanwhile, or unreadable, is skipped and left for a later trim.
     *
     * @throws IOException when {@code dir} cannot be listed
     */
    public static List<Entry> scan(Path dir, Recognizer recognizer) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                try {
                    if (WholeFiles.isTemporary(f)) {
                        if (WholeFiles.isAbandoned(f, WholeFiles.ABANDONED)) {
                            Files.deleteIfExists(f);
                        }
                        continue;
                    }
                    Entry e = recognizer.entryOf(f);
                    if (e != null) {
                        entries.add(e);
                    }
                } catch (IOException | RuntimeException gone) {
                    // removed by another run meanwhile, or unreadable: left for a later trim
                }
            }
        }
        return entries;
    }

    /** Marks {@code entry} used now; where that cannot be done (another user's entry) it only ages sooner. */
    public static void markUsed(Path entry) {
        try {
            Files.setLastModifiedTime(entry, FileTime.from(Instant.now()));
        } catch (IOException | RuntimeException ignored) {
            // the entry was read all the same
        }
    }
}
