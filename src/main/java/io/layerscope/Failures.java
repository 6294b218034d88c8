package io.layerscope;

import java.io.IOException;

/** Failures caught on one thread (a download's future, a reading thread) passed on by another as the kind they were. */
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
}
