package io.layerscope;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Inputs read whole must be regular files: a pipe would block the read for ever, a device
 * (/dev/zero) never ends, a directory cannot be read as one. One test and one phrase for all of them.
 */
public final class FileKinds {
    /** How a refusal says what the path is. */
    public static final String NOT_REGULAR = "not a regular file (a directory, device, pipe or socket)";

    private FileKinds() {
    }

    /** Whether something is at {@code path} (links followed) that is not a regular file. */
    public static boolean existsButNotRegular(Path path) {
        return Files.exists(path) && !Files.isRegularFile(path);
    }
}
