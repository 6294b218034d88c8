package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The least recently used entries go first, never the run's own, ties by key, every file of an entry. */
class CacheEntriesTest {
    @TempDir
    Path dir;

    private CacheEntries.Entry entry(String key, long bytes, int day) throws IOException {
        Path main = Files.writeString(dir.resolve(key + ".bin"), "x");
        Path beside = Files.writeString(dir.resolve(key + ".json"), "{}");
        return new CacheEntries.Entry(key, List.of(main, beside), bytes,
                FileTime.from(Instant.parse(String.format("2026-01-%02dT00:00:00Z", day))));
    }

    @Test
    void theLeastRecentlyUsedGoFirstButNeverTheRunsOwn() throws IOException {
        List<CacheEntries.Entry> entries = List.of(entry("a", 40, 1), entry("b", 30, 5), entry("c", 30, 3),
                entry("d", 30, 4), entry("e", 10, 2));
        // a (the oldest, 40) is kept as the run's own; then b (5th), d (4th) fit in 100; c and e go
        assertEquals(new CacheEntries.Removed(2, 40), CacheEntries.trim(entries, "a", 100));
        for (String k : List.of("a", "b", "d")) {
            assertTrue(Files.exists(dir.resolve(k + ".bin")) && Files.exists(dir.resolve(k + ".json")), k);
        }
        for (String k : List.of("c", "e")) {
            assertFalse(Files.exists(dir.resolve(k + ".bin")) || Files.exists(dir.resolve(k + ".json")), k);
        }
        // the run's own alone beyond the size: it stays, everything else goes
        assertEquals(new CacheEntries.Removed(2, 60), CacheEntries.trim(List.of(entries.get(0), entries.get(1), entries.get(3)), "a", 10));
        assertTrue(Files.exists(dir.resolve("a.bin")));
    }

    @Test
    void tiesGoByKeyAndAnEntryThatCannotBeRemovedStays() throws IOException {
        Path stuck = Files.createDirectories(dir.resolve("stuck"));
        Files.writeString(stuck.resolve("inside"), "a non-empty directory cannot be deleted as a file");
        FileTime same = FileTime.from(Instant.parse("2026-01-01T00:00:00Z"));
        List<CacheEntries.Entry> entries = List.of(
                new CacheEntries.Entry("y", List.of(Files.writeString(dir.resolve("y"), "")), 10, same),
                new CacheEntries.Entry("x", List.of(Files.writeString(dir.resolve("x"), "")), 10, same),
                new CacheEntries.Entry("w", List.of(stuck), 10, FileTime.from(Instant.parse("2025-01-01T00:00:00Z"))));
        // room for one: x comes before y at the same time, so y goes; w cannot go and is not counted
        assertEquals(new CacheEntries.Removed(1, 10), CacheEntries.trim(entries, "none", 10));
        assertTrue(Files.exists(dir.resolve("x")));
        assertFalse(Files.exists(dir.resolve("y")));
        assertTrue(Files.exists(stuck));
    }
}
