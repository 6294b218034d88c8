package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WholeFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesANewFileAndReplacesAnOldOneLeavingNothingElse() throws IOException {
        Path target = dir.resolve("layer.png");
        WholeFiles.write(target, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));

        WholeFiles.write(target, out -> {
            out.write("second".getBytes(StandardCharsets.UTF_8));
            out.write(new byte[100_000]);   // past the buffer: written through it, not only at the end
        }, WholeFiles.Durability.FORCED);
        byte[] read = Files.readAllBytes(target);
        assertEquals(6 + 100_000, read.length);
        assertEquals("second", new String(read, 0, 6, StandardCharsets.UTF_8));
        assertEquals(List.of(target), list(dir));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAsItWasAndNoTemporaryFile() throws IOException {
        Path target = Files.writeString(dir.resolve("entry"), "old");
        IOException full = new IOException("No space left on device");
        IOException thrown = assertThrows(IOException.class, () -> WholeFiles.write(target, out -> {
            out.write(new byte[200_000]);
            throw full;
        }, WholeFiles.Durability.CACHED));
        assertSame(full, thrown);
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), list(dir));

        // a runtime failure of the body too
        assertThrows(IllegalStateException.class, () -> WholeFiles.write(target, out -> {
            throw new IllegalStateException("broken");
        }, WholeFiles.Durability.CACHED));
        assertEquals(List.of(target), list(dir));
    }

    @Test
    void theFileGetsTheDefaultModeNotCreateTempFilesOwnerOnlyOne() throws IOException {
        // what the umask gives a file created the plain way, in the same directory
        Path plain = Files.createFile(dir.resolve("plain"));
        Path target = dir.resolve("ref");
        WholeFiles.write(target, "abc".getBytes(StandardCharsets.UTF_8));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
    }

    @Test
    void aMissingDirectoryIsAnErrorAndCreatesNothing() {
        Path target = dir.resolve("missing").resolve("file");
        assertThrows(NoSuchFileException.class, () -> WholeFiles.write(target, new byte[1]));
        assertFalse(Files.exists(dir.resolve("missing")));
    }

    @Test
    void temporaryNamesAreHiddenAndEndInTmpAndStayShortForLongTargets() throws IOException {
        Path names = Files.createDirectory(dir.resolve("names"));
        Path entry = Files.writeString(names.resolve(".entry-1.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "");
        assertTrue(WholeFiles.isTemporary(entry));
        // a user's files in a shared cache directory are no temporary file of ours, whatever their names
        for (String name : new String[] {"entry.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp", ".report.tmp", ".abc.9f.tmp", ".hidden"}) {
            assertFalse(WholeFiles.isTemporary(Files.writeString(names.resolve(name), "")), name);
        }
        assertFalse(WholeFiles.isTemporary(Files.createDirectory(names.resolve(".old.11111111-2222-3333-4444-555555555555.tmp"))), "a directory");
        FileTrees.deleteRecursively(names);

        // a 250-character name (the limit is 255 bytes): its temporary name must still be creatable
        Path target = dir.resolve("x".repeat(250));
        Path[] seen = new Path[1];
        WholeFiles.write(target, out -> {
            try (Stream<Path> s = Files.list(dir)) {
                seen[0] = s.filter(p -> !p.equals(target)).findFirst().orElseThrow();
            }
            assertTrue(WholeFiles.isTemporary(seen[0]), seen[0].toString());
        }, WholeFiles.Durability.CACHED);
        assertTrue(seen[0].getFileName().toString().length() <= 255);
        assertEquals(List.of(target), list(dir));
    }

    @Test
    void clearAbandonedRemovesOnlyOldTemporaryFilesOfItsTarget() throws IOException {
        Path target = dir.resolve("imatrix.gguf");
        FileTime twoDaysAgo = FileTime.from(Instant.now().minus(Duration.ofDays(2)));
        Path old = Files.writeString(dir.resolve(".imatrix.gguf.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "killed");
        Path fresh = Files.writeString(dir.resolve(".imatrix.gguf.11111111-2222-3333-4444-555555555555.tmp"), "writing");
        Path otherTarget = Files.writeString(dir.resolve(".other.gguf.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "");
        Path users = Files.writeString(dir.resolve(".imatrix.gguf.notes.tmp"), "");
        Path oldDirectory = Files.createDirectory(dir.resolve(".imatrix.gguf.22222222-2222-3333-4444-555555555555.tmp"));
        for (Path p : List.of(old, otherTarget, users, oldDirectory)) {
            Files.setLastModifiedTime(p, twoDaysAgo);
        }

        assertEquals(1, WholeFiles.clearAbandoned(target, Duration.ofDays(1)));
        assertEquals(List.of(fresh, oldDirectory, users, otherTarget), list(dir));
        assertEquals(0, WholeFiles.clearAbandoned(dir.resolve("missing/x"), Duration.ofDays(1)), "no directory: nothing");
    }

    @Test
    void aNameOfManyBytesButFewCharactersGetsATemporaryNameThatFits() throws IOException {
        // file names are bytes in the JVM's file-name encoding; only UTF-8 makes this name two bytes a character
        assumeTrue("UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding")), "file names not in UTF-8");
        // 127 two-byte characters: 254 bytes, which a name may have
        Path wide = dir.resolve("\u00e9".repeat(127));
        WholeFiles.write(wide, new byte[] {7});
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(wide));
        assertEquals(List.of(wide), list(dir));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** A file being written is known to the shutdown hook that deletes it on a signal, and only while it is written. */
    @Test
    void aFileBeingWrittenIsTrackedUntilItIsInPlace(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("entry.bin");
        java.util.List<java.util.Set<Path>> during = new java.util.ArrayList<>();
        WholeFiles.write(target, out -> {
            during.add(WholeFiles.inFlight());
            out.write(1);
        }, WholeFiles.Durability.CACHED);
        assertEquals(1, during.get(0).size());
        Path tmp = during.get(0).iterator().next();
        assertEquals(dir, tmp.getParent());
        assertTrue(tmp.getFileName().toString().matches("\\.entry\\.bin\\.[0-9a-f-]{36}\\.tmp"), tmp.toString());
        assertEquals(java.util.Set.of(), WholeFiles.inFlight());
        assertThrows(IOException.class, () -> WholeFiles.write(dir.resolve("failed.bin"),
                out -> {
                    throw new IOException("disk full");
                }, WholeFiles.Durability.CACHED));
        assertEquals(java.util.Set.of(), WholeFiles.inFlight());
    }
}
