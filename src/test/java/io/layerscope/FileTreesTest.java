package io.layerscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {

    @Test
    void deletesATreeAndLeavesItsSiblings(@TempDir Path tmp) throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("tree/a/b"));
        Files.writeString(tree.resolve("x.txt"), "x");
        Files.writeString(tmp.resolve("tree/y.txt"), "y");
        Files.writeString(tmp.resolve("sibling.txt"), "z");
        FileTrees.deleteRecursively(tmp.resolve("tree"));
        assertFalse(Files.exists(tmp.resolve("tree")));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(tmp.resolve("sibling.txt")), left.toList());
        }
    }

    @Test
    void aMissingPathIsNothingToDo(@TempDir Path tmp) throws Exception {
        FileTrees.deleteRecursively(tmp.resolve("absent"));
        assertFalse(Files.exists(tmp.resolve("absent")));
    }
}
