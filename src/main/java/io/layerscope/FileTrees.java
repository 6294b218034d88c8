package io.layerscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Deleting a directory tree, which {@code java.nio.file} has no single call for (the demo model's
 * and the benchmark's temporary directories).
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
}
