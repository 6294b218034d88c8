package io.layerscope.llama;

import ai.djl.engine.Engine;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * libtorch, loaded once per JVM through DJL's PyTorch engine. Loading runs libtorch's static
 * initialisers; a process that exits while another thread is inside them can abort in native code
 * (std::terminate, exit 134) instead of exiting with its own status, so a JVM about to exit waits
 * for a load under way ({@link #awaitLoad}). Early failures are the case: the driver may fail on bad
 * input while the model preload (local mode) is still loading libtorch.
 */
public final class NativeLibrary {
    static final String ENGINE = "PyTorch";
    private static final ReentrantLock LOADING = new ReentrantLock();
    /** Set by {@link #awaitLoad}: the JVM is exiting, and no load may start any more. */
    private static boolean closed;

    private NativeLibrary() {
    }

    /** Loads the engine if it is not loaded yet; cheap afterwards. */
    public static Engine engine() {
        LOADING.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the JVM is exiting; libtorch is not loaded any more");
            }
            return Engine.getEngine(ENGINE);
        } finally {
            LOADING.unlock();
        }
    }

    /**
     * Before the JVM exits: waits at most {@code timeout} for a load under way on another thread to
     * finish, and lets no load start after it.
     */
    public static void awaitLoad(Duration timeout) {
        try {
            if (LOADING.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                closed = true;
                LOADING.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
