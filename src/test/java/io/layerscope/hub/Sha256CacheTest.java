package io.layerscope.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.FileTimes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Digests from CPython's hashlib; the cache's use is shown by a planted entry being believed. */
class Sha256CacheTest {
    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static final String ABD = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";
    private static final String PLANTED = "f".repeat(64);

    @TempDir
    Path tmp;

    private Path cacheDir() {
        return tmp.resolve("cache");
    }

    private Sha256Cache settledAtOnce() {
        return new Sha256Cache(cacheDir(), Duration.ZERO);
    }

    private List<Path> entries() throws IOException {
        if (!Files.isDirectory(cacheDir())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(cacheDir())) {
            return s.toList();
        }
    }

    /** Puts {@link #PLANTED} in place of the one entry's digest, keeping its identity lines. */
    private void plant() throws IOException {
        Path entry = entries().get(0);
        List<String> lines = Files.readAllLines(entry);
        Files.write(entry, List.of(lines.get(0), lines.get(1), PLANTED));
    }

    @Test
    void anUnchangedFileIsNotReadAgain() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        assertEquals(ABC, settledAtOnce().of(f));
        assertEquals(1, entries().size());
        plant();
        assertEquals(PLANTED, settledAtOnce().of(f));
        // a link to it (a Hugging Face snapshot's) finds the same entry
        Path link = Files.createSymbolicLink(tmp.resolve("link.safetensors"), f);
        assertEquals(PLANTED, settledAtOnce().of(link));
        assertEquals(1, entries().size());
    }

    @Test
    void aFileRewrittenInPlaceWithItsOldTimeRestoredIsHashedAgain() throws Exception {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        FileTime mtime = Files.getLastModifiedTime(f);
        assertEquals(ABC, settledAtOnce().of(f));
        plant();
        FileTimes.awaitANewStatusChangeTime(f);
        Files.writeString(f, "abd"); // same size, same inode
        Files.setLastModifiedTime(f, mtime); // as cp -p or touch -r would: ctime still moves
        assertEquals(ABD, settledAtOnce().of(f));
        assertEquals(ABD, Files.readAllLines(entries().get(0)).get(2));
    }

    @Test
    void aFileChangedMomentsAgoIsNotRemembered() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        assertEquals(ABC, new Sha256Cache(cacheDir(), Duration.ofHours(1)).of(f));
        assertEquals(List.of(), entries());
    }

    @Test
    void aCorruptEntryIsIgnoredAndReplaced() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        settledAtOnce().of(f);
        Files.writeString(entries().get(0), "not an entry", StandardCharsets.UTF_8);
        assertEquals(ABC, settledAtOnce().of(f));
        assertEquals(ABC, Files.readAllLines(entries().get(0)).get(2));
    }

    @Test
    void aCacheThatCannotBeWrittenCostsOnlyTheHashing() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        Path notADir = Files.writeString(tmp.resolve("cache-file"), "x");
        Sha256Cache cache = new Sha256Cache(notADir.resolve("sha256"), Duration.ZERO);
        assertEquals(ABC, cache.of(f));
        assertEquals(ABC, cache.of(f));
        assertEquals("x", Files.readString(notADir));
        try (Stream<Path> s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void aRememberedHashIsBelievedUntilTheFileChanges() throws Exception {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        // a fresh file is remembered at once: the caller hashed the bytes it wrote (no settling time)
        new Sha256Cache(cacheDir(), Duration.ofHours(1)).remember(f, PLANTED);
        assertEquals(PLANTED, settledAtOnce().of(f));
        FileTimes.awaitANewStatusChangeTime(f);   // else a rewrite within the tick keeps both times
        Files.writeString(f, "abd");
        assertEquals(ABD, settledAtOnce().of(f));
        assertEquals(1, entries().size());
    }

    @Test
    void rememberTakesOnlyALowercaseHexDigestAndNeverFailsForTheFile() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.safetensors"), "abc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settledAtOnce().remember(f, ABC.toUpperCase(java.util.Locale.ROOT)));
        assertEquals("not a lowercase hex sha256: " + ABC.toUpperCase(java.util.Locale.ROOT), e.getMessage());
        settledAtOnce().remember(tmp.resolve("missing.safetensors"), ABC);
        assertEquals(List.of(), entries());
    }

    @Test
    void hashingAFileRemovesTheEntriesOfFilesThatAreGone() throws IOException {
        Path kept = Files.writeString(tmp.resolve("kept.safetensors"), "abc");
        Path gone = Files.writeString(tmp.resolve("gone.safetensors"), "abd");
        settledAtOnce().of(kept);
        settledAtOnce().of(gone);
        Path keptEntry = entryOf(kept);
        Path goneEntry = entryOf(gone);
        Files.delete(gone);
        Path corrupt = Files.writeString(cacheDir().resolve("0".repeat(64)), "\n", StandardCharsets.UTF_8);
        Path abandoned = Files.writeString(cacheDir().resolve(".entry-1.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "half");
        Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minus(Sha256Cache.ABANDONED).minusSeconds(60)));
        Path inFlight = Files.writeString(cacheDir().resolve(".entry-2.11111111-2222-3333-4444-555555555555.tmp"), "half");
        Path foreign = Files.writeString(cacheDir().resolve("README"), "not an entry");

        Sha256Cache cache = settledAtOnce();
        // a hit writes nothing, so it prunes nothing
        assertEquals(ABC, cache.of(kept));
        assertTrue(Files.exists(goneEntry));

        Path added = Files.writeString(tmp.resolve("added.safetensors"), "abd");
        assertEquals(ABD, cache.of(added));
        assertEquals(List.of(foreign, inFlight, entryOf(added), keptEntry).stream().sorted().toList(),
                entries().stream().sorted().toList());
        assertFalse(Files.exists(corrupt));
        assertFalse(Files.exists(abandoned));
        assertEquals(ABC, cache.of(kept));
    }

    /** The entry that names {@code file}. */
    private Path entryOf(Path file) throws IOException {
        String real = file.toRealPath().toString();
        for (Path e : entries()) {
            if (!e.getFileName().toString().startsWith(".") && Files.readAllLines(e).get(0).equals(real)) {
                return e;
            }
        }
        throw new AssertionError("no entry for " + file);
    }

    @Test
    void theStandardPlaceFollowsXdgCacheHome() {
        assertEquals(Path.of("/x/cache/layerscope/sha256"),
                Sha256Cache.standardDir(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/x/cache")));
        assertEquals(Path.of("/home/u/.cache/layerscope/sha256"), Sha256Cache.standardDir(Map.of("HOME", "/home/u")));
        assertTrue(Sha256Cache.standardDir(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "~/c")).startsWith("/home/u/c"));
    }
}
