package io.layerscope;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * What the running job has put in place, for the line a signal prints. A signal that lands while the
 * outputs are moved into place must not call one that is already there "not kept" (with --overwrite
 * the old one is gone by then): moving an output and saying what was kept take turns, and no move
 * starts once the JVM is shutting down.
 */
public final class KeptOutputs {
    private static final ReentrantLock MOVING = new ReentrantLock();
    private static final List<String> KEPT = new CopyOnWriteArrayList<>();

    private KeptOutputs() {
    }

    /** A job starts: nothing of it is in place yet. */
    public static void begin() {
        KEPT.clear();
    }

    /**
     * Moves an output into place with {@code move}, which returns what to say of it ("the results are
     * in DIR"); refused once the JVM is shutting down.
     */
    public static String put(String what, Supplier<String> move) {
        MOVING.lock();
        try {
            if (Shutdown.inProgress()) {
                throw new LayerscopeException("interrupted: " + what + " and what follows are not kept");
            }
            String kept = move.get();
            KEPT.add(kept);
            return kept;
        } finally {
            MOVING.unlock();
        }
    }

    /** The line that says a signal stopped the job, once a move under way has ended (waiting at most {@code wait}). */
    public static String stopLine(Duration wait) {
        boolean waited = false;
        try {
            waited = MOVING.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            return KEPT.isEmpty() ? "error: interrupted; incomplete results are not kept"
                    : "error: interrupted; " + String.join("; ", KEPT) + " (put in place before the signal); nothing"
                            + " else was kept";
        } finally {
            if (waited) {
                MOVING.unlock();
            }
        }
    }
}
