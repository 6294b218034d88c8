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

    @Test
    void asMuchAsCanGoGoesAndALinkedDirectoryIsNotFollowed(@TempDir Path tmp) throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("kept.txt"), "k");
        Path tree = Files.createDirectories(tmp.resolve("tree/a"));
        Files.writeString(tree.resolve("x.txt"), "x");
        Files.createSymbolicLink(tmp.resolve("tree/link"), outside);
        Path locked = Files.createDirectories(tmp.resolve("tree/locked"));
        Files.writeString(locked.resolve("stays.txt"), "s");
        boolean root = "root".equals(System.getProperty("user.name"));
        locked.toFile().setWritable(false);
        try {
            FileTrees.deleteWhatCan(tmp.resolve("tree"));
        } finally {
            locked.toFile().setWritable(true);
        }
        assertEquals("k", Files.readString(outside.resolve("kept.txt")));
        assertFalse(Files.exists(tmp.resolve("tree/a")));
        assertFalse(Files.exists(tmp.resolve("tree/link"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        // a directory whose entries cannot be removed stays, with its parent (root removes anything)
        assertEquals(!root, Files.exists(locked.resolve("stays.txt")));
        FileTrees.deleteWhatCan(tmp.resolve("absent"));
    }
}
