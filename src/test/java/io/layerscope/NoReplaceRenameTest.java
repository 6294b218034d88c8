package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What rename(2) would replace, an empty directory or a file at the target, stays; the source too. */
class NoReplaceRenameTest {
    @TempDir
    Path tmp;

    @Test
    void movesWhereNothingIsAndNeverOverWhatIs() throws IOException {
        Path staging = Files.createDirectory(tmp.resolve(".out.staging"));
        Files.writeString(staging.resolve("run.json"), "{}");
        Path empty = Files.createDirectory(tmp.resolve("out"));
        assertEquals(empty.toString(), assertThrows(FileAlreadyExistsException.class,
                () -> NoReplaceRename.move(staging, empty)).getMessage(), "Files.move would replace an empty directory");
        assertEquals(List.of(), list(empty));
        Path file = Files.writeString(tmp.resolve("a-file"), "keep me");
        Path staged = Files.writeString(tmp.resolve(".a-file.tmp"), "new");
        assertThrows(FileAlreadyExistsException.class, () -> NoReplaceRename.move(staged, file));
        assertEquals("keep me", Files.readString(file));
        assertEquals("new", Files.readString(staged));

        Path fresh = tmp.resolve("fresh");
        NoReplaceRename.move(staging, fresh);
        assertEquals("{}", Files.readString(fresh.resolve("run.json")));
        assertTrue(Files.notExists(staging));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
