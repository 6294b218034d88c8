package io.layerscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A path with symbolic links resolved as far as it exists and the rest appended, so that two
 * spellings of one place compare equal, and a place that does not exist yet compares as where it
 * will be (the checks that keep outputs out of the model, the caches and one another).
 *
 * <pre>{@code
 * RealPaths.of(Path.of("results/new/run1"));   // /home/u/runs/new/run1 where results links to runs
 * }</pre>
 */
public final class RealPaths {
    private RealPaths() {
    }

    public static Path of(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = nearestExisting(abs);
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    /**
     * {@code p} or its nearest ancestor that exists (as {@code options} say: NOFOLLOW_LINKS counts a
     * symbolic link to nothing as existing), or null when none does: where a path yet to be made
     * would be made, for checks of its disk or permissions.
     */
    public static Path nearestExisting(Path p, LinkOption... options) {
        Path existing = p;
        while (existing != null && !Files.exists(existing, options)) {
            existing = existing.getParent();
        }
        return existing;
    }
}
