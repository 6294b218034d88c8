package io.layerscope;

import java.time.Duration;
import java.util.List;
import java.util.Map;
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
    /** By the thread of the job that put them in place: jobs may run side by side in one JVM (weak: a thread that ended goes). */
    private static final Map<Thread, List<String>> KEPT = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** What --overwrite would replace, said as left unchanged until its replacement starts (each gives null then). */
    private static final Map<Thread, List<Supplier<String>>> EARLIER =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private KeptOutputs() {
    }

    /** A job starts on this thread: nothing of it is in place yet (an earlier job's on the thread is done). */
    public static void begin() {
        KEPT.remove(Thread.currentThread());
        EARLIER.remove(Thread.currentThread());
    }

    /**
     * An earlier output that this job's will replace: {@code unchanged} says it is unchanged ("the
     * earlier results in DIR are unchanged") as long as it is, and gives null once its replacement
     * has started. A failed or interrupted --overwrite run says so: the user need not wonder whether
     * the old results went with it.
     */
    public static void replacing(Supplier<String> unchanged) {
        EARLIER.computeIfAbsent(Thread.currentThread(), t -> new CopyOnWriteArrayList<>()).add(unchanged);
    }

    /** What this thread's job would have replaced and has not: each said unchanged. */
    public static List<String> unchanged() {
        return said(EARLIER.getOrDefault(Thread.currentThread(), List.of()));
    }

    private static List<String> said(List<Supplier<String>> notes) {
        return notes.stream().map(Supplier::get).filter(java.util.Objects::nonNull).toList();
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
            KEPT.computeIfAbsent(Thread.currentThread(), t -> new CopyOnWriteArrayList<>()).add(kept);
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
            List<String> kept;
            List<String> unchanged;
            synchronized (KEPT) {
                kept = KEPT.values().stream().flatMap(List::stream).toList();
            }
            synchronized (EARLIER) {
                unchanged = said(EARLIER.values().stream().flatMap(List::stream).toList());
            }
            String line = kept.isEmpty() ? "error: interrupted; incomplete results are not kept"
                    : "error: interrupted; " + String.join("; ", kept) + "; what was not yet in place is not kept";
            return unchanged.isEmpty() ? line : line + "; " + String.join("; ", unchanged);
        } finally {
            if (waited) {
                MOVING.unlock();
            }
        }
    }

    /** Forgets every job's (tests: jobs on threads that outlive them). */
    static void forgetAllForTests() {
        KEPT.clear();
        EARLIER.clear();
    }
}
