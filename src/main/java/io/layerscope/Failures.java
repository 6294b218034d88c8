package io.layerscope;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Failures caught on one thread (a download's future, a reading thread) passed on by another as the
 * kind they were, described for a message, and looked through for the cause that explains them.
 */
public final class Failures {
    private Failures() {
    }

    /**
     * {@code failure} as the IOException for the caller to throw: itself if it is one, wrapped if it
     * is another checked exception. An unchecked one (a RuntimeException, an Error) is thrown here as
     * it is, so that an OutOfMemoryError stays one and a LayerscopeException keeps its message.
     */
    public static IOException asIOException(Throwable failure) {
        if (failure instanceof IOException io) {
            return io;
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        return new IOException(failure);
    }

    /** An IOException for a message: what Java's own messages leave unsaid (permission denied, what exists). */
    public static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        if (e instanceof FileAlreadyExistsException) {
            // a file where a directory was to be made, or (a rename that does not replace) anything there
            boolean directory = e.getMessage() != null && Files.isDirectory(Path.of(e.getMessage()), LinkOption.NOFOLLOW_LINKS);
            return e.getMessage() + (directory ? " exists" : " exists and is not a directory");
        }
        if (e instanceof JsonProcessingException j) {
            // Jackson's own message ends in a source description that says only that it is not shown
            // (its original message can quote a location of its own, "start marker at [Source: ...; line: 1,
            // column: 1]", with the same note)
            JsonLocation at = j.getLocation();
            String what = j.getOriginalMessage() == null ? j.getClass().getSimpleName()
                    : j.getOriginalMessage().replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
            return what + (at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr());
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /**
     * {@code e} and its causes, outermost first (empty for null). Spark wraps an executor's failure in
     * several layers; a cause chain that loops ends at the first repeat.
     */
    public static List<Throwable> causes(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    /** The outermost of {@link #causes} that is a {@code kind}, or null. */
    public static <T extends Throwable> T cause(Throwable e, Class<T> kind) {
        for (Throwable t : causes(e)) {
            if (kind.isInstance(t)) {
                return kind.cast(t);
            }
        }
        return null;
    }
}
